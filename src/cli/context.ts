import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config, type LoadedConfig } from '../config/index.js';
import { createLogger } from '../runtime/logger.js';
import { MissionControlClient } from '../clients/mission-control/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import { EffectsDoor } from '../runtime/effects/door.js';
import { CliExit, EXIT } from './exit-codes.js';
import type { Progress } from './progress.js';

export interface GlobalFlags {
  config?: string;
  apiUrl?: string;
  board?: string;
  dryRun?: boolean;
  logLevel?: string;
}

/** The global flags that set a config value, by dotted path: a problem names the flag the operator typed. */
const FLAG_NAMES: Record<string, string> = {
  'mc.apiUrl': '--api-url',
  'mc.boardIds': '--board',
  'loop.dryRun': '--dry-run',
  'loop.logLevel': '--log-level',
};

/** One wording wherever Mission Control is missing, so every command points to the same fix. */
export const NOT_CONFIGURED =
  'Mission Control is not configured: set MC_API_URL, MC_AUTH_TOKEN and MC_BOARD_ID (or api_url/board_id in config/mission-control-ids.json and auth_token in its .local.json), or run `npm start` to try it against the embedded sandbox';

/** CLI flags as dotted config paths (they win over env and files). */
export function flagOverrides(flags: GlobalFlags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (flags.apiUrl !== undefined) out['mc.apiUrl'] = flags.apiUrl;
  if (flags.board !== undefined) out['mc.boardIds'] = flags.board;
  if (flags.dryRun) out['loop.dryRun'] = true;
  if (flags.logLevel !== undefined) out['loop.logLevel'] = flags.logLevel;
  return out;
}

export function loadOrExit(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const e = flags.config ? { ...env, MC_CONFIG_PATH: flags.config } : env;
  try {
    // A file named on purpose must exist; only the default kit path is optional.
    return loadConfig({ env: e, flags: flagOverrides(flags), flagNames: FLAG_NAMES, configRequired: Boolean(e.MC_CONFIG_PATH) });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(EXIT.invalid, err.message);
    throw err;
  }
}

export function loggerFor(config: Config): Logger {
  return createLogger({ level: config.loop.logLevel, format: config.loop.logFormat });
}

/** Exit 2 with the same message wherever a command needs Mission Control and it is not configured. */
export function requireMissionControl(config: Config): void {
  if (!config.mc.apiUrl || !config.mc.authToken || config.mc.boardIds.length === 0)
    throw new CliExit(EXIT.invalid, `invalid configuration:\n  - ${NOT_CONFIGURED}`);
}

/**
 * The door of a one-shot command: closed under MC_DRY_RUN / `--dry-run`, open otherwise. `run`, `once` and `plan`
 * build theirs with leadership in mind (src/cli/run-loop.ts, commands/loop.ts).
 */
export function commandDoor(config: Config): EffectsDoor {
  return config.loop.dryRun ? EffectsDoor.closed('dry-run') : EffectsDoor.open();
}

/**
 * The board client behind `door` (its writes are refused while the door is closed), or a clear exit when Mission
 * Control is not configured; with `progress`, a long listing shows its pages on a terminal.
 */
export function missionControl(config: Config, logger: Logger, door: EffectsDoor, opts: { signal?: AbortSignal; progress?: Progress } = {}): MissionControlApi {
  requireMissionControl(config);
  const { signal, progress } = opts;
  return door.missionControl(
    new MissionControlClient({
      apiUrl: config.mc.apiUrl!,
      token: config.mc.authToken!,
      timeoutMs: config.mc.timeoutMs,
      streamConnectTimeoutMs: config.mc.streamConnectTimeoutMs,
      logger,
      ...(signal ? { signal } : {}),
      ...(progress ? { onPage: (p: { path: string; rows: number; total: number }) => progress.page(p) } : {}),
    }),
  );
}
