import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { startSandbox, type SandboxInfo } from '../sandbox/index.js';
import { startGatewaySimulator } from '../sandbox/gateway/index.js';
import type { StreamMode } from '../sandbox/mission-control/sse.js';

export interface EmbeddedInfo extends SandboxInfo {
  gatewayUrl: string;
  gatewayToken: string;
}

export interface Embedded {
  info: EmbeddedInfo;
  close(): Promise<void>;
}

/** The demo board links one task to this session; the simulator starts with it running. */
export const DEMO_SESSION_KEY = 'agent:luan:subagent:demo-billing-export';
const DEMO_SESSIONS = [
  {
    key: DEMO_SESSION_KEY,
    body: { status: 'running', label: 'demo-billing-export', messages: [{ role: 'user', text: 'Export the billing report' }] },
  },
];

/** The sandbox peers in this process: Mission Control, Discord, the control API and the gateway simulator. */
export async function startEmbedded(opts: {
  seed: 'demo' | 'empty';
  /** SSE timing of the Mission Control sandbox (default `upstream`: poll every 2 s) */
  streams?: StreamMode;
  ports?: { mc?: number | undefined; discord?: number | undefined; control?: number | undefined; gateway?: number | undefined };
}): Promise<Embedded> {
  const gateway = await startGatewaySimulator({ ...(opts.ports?.gateway !== undefined ? { port: opts.ports.gateway } : {}) });
  const ports = Object.fromEntries(Object.entries(opts.ports ?? {}).filter(([k, v]) => v !== undefined && k !== 'gateway'));
  let sandbox;
  try {
    sandbox = await startSandbox({ seed: opts.seed, ports, controlRoutes: [gateway.controlRoutes], streams: { mode: opts.streams ?? 'upstream' } });
  } catch (err) {
    await gateway.close();
    throw err;
  }
  if (opts.seed === 'demo') {
    for (const s of DEMO_SESSIONS) {
      await fetch(`${sandbox.info.controlUrl}/sessions/${encodeURIComponent(s.key)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...s.body, lastActivityAt: Date.now() - 5 * 60_000 }),
      });
    }
  }
  const s = sandbox;
  return {
    info: { ...s.info, gatewayUrl: gateway.url, gatewayToken: gateway.token },
    close: async () => {
      await s.close();
      await gateway.close();
    },
  };
}

/** Environment a controller needs to talk to the embedded peers. */
export function embeddedEnv(info: EmbeddedInfo): Record<string, string> {
  return {
    MC_API_URL: info.mcApiUrl,
    MC_AUTH_TOKEN: info.mcAuthToken,
    MC_BOARD_ID: info.boardId,
    DISCORD_API_URL: info.discordApiUrl,
    DISCORD_BOT_TOKEN: info.discordBotToken,
    MC_DISCORD_CHANNEL: info.discordChannelId,
    MC_GATEWAY_URL: info.gatewayUrl,
    MC_GATEWAY_TOKEN: info.gatewayToken,
  };
}

/**
 * What `npm start` changes from the production defaults so the demo board shows every concern at once: every
 * active task is watched (the demo's unlinked task was not created through our flow) and the done tasks that
 * predate the first run are posted, not only marked. The banner and the env file say so.
 */
export const DEMO_OVERRIDES: Readonly<Record<string, { value: string; production: string }>> = {
  MC_WATCHDOG_SCOPE: { value: 'all', production: 'linked' },
  MC_DELIVERY_BACKLOG: { value: 'deliver', production: 'skip' },
};

/** `export NAME='value'` lines a shell can source (values single-quoted, so nothing in them is expanded). */
export function exportLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
    .join('\n');
}

/** Writes the env file a newcomer sources to point the CLI at the running demo; owner-only, it holds tokens. */
export function writeEnvFile(path: string, header: string, env: Record<string, string>): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${header}\n${exportLines(env)}\n`, { mode: 0o600 });
  // mode only applies on creation: a file left by an earlier run is tightened too
  chmodSync(path, 0o600);
}
