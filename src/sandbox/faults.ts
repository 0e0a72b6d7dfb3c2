import { z } from 'zod';

/** Fault injection shared by the sandbox servers and driven by the control API (`PUT /faults`). */

/**
 * `reset-after-commit` handles the request (a write is applied) and then resets the connection instead of
 * answering: what a client sees when upstream commits and its slow post-commit gateway calls outlive the
 * client's timeout or a proxy's patience.
 */
export const MC_FAULT_KINDS = ['500', '502', '503', '429', 'stall', 'reset-after-commit'] as const;
export type McFaultKind = (typeof MC_FAULT_KINDS)[number];

export const FaultsSchema = z.strictObject({
  mc: z
    .strictObject({
      /** fraction (0..1) of /api/v1 requests answered with a fault instead of being handled */
      errorRate: z.number().min(0).max(1).default(0),
      /** added before every /api/v1 request is handled */
      latencyMs: z.number().int().min(0).max(60_000).default(0),
      /** which faults to draw from (default: all, uniformly) */
      kinds: z.array(z.enum(MC_FAULT_KINDS)).min(1).optional(),
      /** how long a `stall` holds the request before answering 504 (or until the client gives up) */
      stallMs: z.number().int().min(0).max(300_000).default(30_000),
    })
    .optional(),
  discord: z
    .strictObject({
      /** every N-th message POST answers 429 (0 = never) */
      rateLimitEvery: z.number().int().min(0).default(0),
      /** the Retry-After header value, in seconds */
      retryAfterSeconds: z.number().min(0).max(60).default(1),
    })
    .optional(),
});
export type FaultsInput = z.input<typeof FaultsSchema>;

export interface McFaults {
  errorRate: number;
  latencyMs: number;
  kinds: McFaultKind[];
  stallMs: number;
}

export interface DiscordFaults {
  rateLimitEvery: number;
  retryAfterSeconds: number;
}

export class FaultState {
  mc: McFaults = FaultState.noMc();
  discord: DiscordFaults = { rateLimitEvery: 0, retryAfterSeconds: 1 };

  private static noMc(): McFaults {
    return { errorRate: 0, latencyMs: 0, kinds: [...MC_FAULT_KINDS], stallMs: 30_000 };
  }

  /** PUT semantics: a section left out is reset to "no faults". */
  replace(input: z.output<typeof FaultsSchema>): void {
    this.mc = input.mc ? { ...input.mc, kinds: input.mc.kinds ?? [...MC_FAULT_KINDS] } : FaultState.noMc();
    this.discord = input.discord ?? { rateLimitEvery: 0, retryAfterSeconds: 1 };
  }

  /** Draws the fault for one Mission Control request, or null to handle it normally. */
  drawMc(random: () => number = Math.random): McFaultKind | null {
    if (this.mc.errorRate <= 0 || random() >= this.mc.errorRate) return null;
    return this.mc.kinds[Math.floor(random() * this.mc.kinds.length)] ?? null;
  }

  view(): { mc: McFaults; discord: DiscordFaults } {
    return { mc: { ...this.mc, kinds: [...this.mc.kinds] }, discord: { ...this.discord } };
  }
}
