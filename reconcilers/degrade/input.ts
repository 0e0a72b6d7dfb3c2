import { z } from 'zod';

/**
 * What the degrade planner reads from `GlobalSnapshot.pressure`. The composition root fills it from the
 * DegradeMonitor (`current()`), the selected workloads and the process table; the planner validates it here
 * because the snapshot field is typed `unknown`.
 */

const values = z
  .object({
    someAvg10: z.number(),
    someAvg60: z.number(),
    fullAvg10: z.number(),
    headroomPct: z.number(),
    memAvailablePct: z.number(),
    memAvailableBytes: z.number(),
    usedPct: z.number(),
    heapPct: z.number(),
    nodeMemoryPressure: z.boolean(),
    newOom: z.number(),
    newLimitHits: z.number(),
    newHighEvents: z.number(),
  })
  .partial();

export const degradeInputSchema = z.object({
  mode: z.enum(['normal', 'degrade']),
  since: z.number(),
  lastSample: z
    .object({
      at: z.number(),
      values,
      breaches: z.array(z.string()).default([]),
      severe: z.array(z.string()).default([]),
      warn: z.boolean().default(false),
      noSignal: z.boolean().default(false),
    })
    .nullable()
    .default(null),
  lastTransition: z
    .object({
      id: z.string().min(1),
      to: z.enum(['normal', 'degrade']),
      reason: z.string().min(1),
      at: z.number(),
      detail: z.object({ conditions: z.array(z.string()).default([]), values: values.default({}) }),
    })
    .nullable()
    .default(null),
  effects: z
    .object({
      /** idempotency keys of notices confirmed sent (from the global ledger) */
      noticesDone: z.array(z.string()).default([]),
    })
    .default({ noticesDone: [] }),
  /** workloads selected for scale-down (empty outside Kubernetes) */
  workloads: z
    .array(
      z.object({
        kind: z.enum(['Deployment', 'StatefulSet']),
        namespace: z.string().min(1),
        name: z.string().min(1),
        replicas: z.number().int().min(0),
        originalReplicas: z.number().int().min(0).nullable(),
        degradedReplicas: z.number().int().min(0).nullable().default(null),
      }),
    )
    .default([]),
  /** the process table, only filled when the kill allowlist is enabled */
  processes: z
    .array(
      z.object({
        pid: z.number().int(),
        ppid: z.number().int().nullable().default(null),
        command: z.string(),
        exe: z.string().nullable().default(null),
        /** the process client's verdict (init, self, parent, gateway); null = may be signalled */
        protectedReason: z.string().nullable().default(null),
      }),
    )
    .default([]),
  self: z.object({ pid: z.number().int(), ppid: z.number().int() }).optional(),
});

export type DegradeInput = z.input<typeof degradeInputSchema>;
export type ParsedDegradeInput = z.output<typeof degradeInputSchema>;

/** Kit-compatible content of the resource state file (legacy-kit.md §12), kept under `global.resource`. */
export const resourceStateSchema = z
  .object({
    mode: z.enum(['normal', 'degrade']),
    entered_at_ms: z.number().nullable(),
    last_kill_at_ms: z.number().nullable(),
    kill_count_total: z.number().int(),
  })
  .partial()
  .passthrough();
export type ResourceState = z.infer<typeof resourceStateSchema>;
