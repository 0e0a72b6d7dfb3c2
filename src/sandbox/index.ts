import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createControlServer, type ControlRoute } from './control/server.js';
import { createDiscordServer, newDiscordCounters } from './discord/server.js';
import { DiscordStore } from './discord/store.js';
import { FaultState } from './faults.js';
import { listen, stop } from './http.js';
import { seedStore, type Seed } from './mission-control/seed.js';
import { createMissionControlServer } from './mission-control/server.js';
import type { StreamTiming } from './mission-control/sse.js';
import { Store } from './mission-control/store.js';
import { RequestStats } from './stats.js';

/**
 * The embedded sandbox: a contract-faithful Mission Control, a Discord fake and a control API,
 * each on its own 127.0.0.1 port. Used by `npm start` on a fresh machine and by integration tests.
 */

export type { ControlRoute } from './control/server.js';
export type { Seed } from './mission-control/seed.js';

export interface SandboxOptions {
  seed?: Seed;
  host?: '127.0.0.1';
  ports?: { mc?: number; discord?: number; control?: number };
  log?: (line: string) => void;
  /** extra control-API routes (e.g. the gateway simulator's), tried after the built-in ones */
  controlRoutes?: ControlRoute[];
  /** SSE timing; defaults are upstream's (poll 2 s, ping 15 s) */
  streams?: Partial<StreamTiming>;
}

export interface SandboxInfo {
  /** includes `/api/v1`, like the kit's `api_url` */
  mcApiUrl: string;
  mcAuthToken: string;
  boardId: string;
  /** base without the version (`http://127.0.0.1:P/api`), as discord.js `REST({ api })` expects */
  discordApiUrl: string;
  discordBotToken: string;
  discordChannelId: string;
  controlUrl: string;
}

export interface SandboxHandle {
  info: SandboxInfo;
  /** adds a control-API route after start (tried after the built-in and earlier ones) */
  addControlRoute(route: ControlRoute): void;
  close(): Promise<void>;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<SandboxHandle> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => undefined);
  const faults = new FaultState();
  const mcStats = new RequestStats();
  const discordStats = newDiscordCounters();
  const store = new Store();
  const boardId = seedStore(store, opts.seed ?? 'demo');
  const discordStore = new DiscordStore();
  const channel = discordStore.addChannel('notifications');
  // Local-auth tokens upstream must be >= 50 chars; 48 random bytes → 64 base64url chars.
  const mcAuthToken = randomBytes(48).toString('base64url');
  const discordBotToken = `sandbox.${randomBytes(24).toString('base64url')}`;
  const routes: ControlRoute[] = [...(opts.controlRoutes ?? [])];

  const servers: Server[] = [];
  const start = async (server: Server, port: number | undefined): Promise<number> => {
    servers.push(server);
    return listen(server, host, port ?? 0);
  };
  try {
    const mcPort = await start(
      createMissionControlServer({ store, token: mcAuthToken, faults, stats: mcStats, log, streams: opts.streams ?? {} }),
      opts.ports?.mc,
    );
    const discordPort = await start(
      createDiscordServer({ store: discordStore, token: discordBotToken, faults, stats: discordStats, log }),
      opts.ports?.discord,
    );
    const controlPort = await start(
      createControlServer({ faults, mcStats, mcStore: store, discordStats, discordStore, routes, log }),
      opts.ports?.control,
    );
    const info: SandboxInfo = {
      mcApiUrl: `http://${host}:${mcPort}/api/v1`,
      mcAuthToken,
      boardId,
      discordApiUrl: `http://${host}:${discordPort}/api`,
      discordBotToken,
      discordChannelId: channel.id,
      controlUrl: `http://${host}:${controlPort}`,
    };
    log(`sandbox: mission control on ${mcPort}, discord on ${discordPort}, control on ${controlPort} (seed ${opts.seed ?? 'demo'})`);
    let closed: Promise<void> | null = null;
    return {
      info,
      addControlRoute: (route) => {
        routes.push(route);
      },
      close: () => (closed ??= Promise.all(servers.map(stop)).then(() => undefined)),
    };
  } catch (err) {
    await Promise.all(servers.map(stop));
    throw err;
  }
}
