import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config, type LoadedConfig } from '../config/index.js';
import { createLogger } from '../runtime/logger.js';
import { MissionControlClient } from '../clients/mission-control/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import { EffectsDoor } from '../runtime/effects/door.js';
import { CliExit, EXIT } from './exit-codes.js';

export interface GlobalFlags {
  config?: string;
  apiUrl?: string;
  board?: string;
  dryRun?: boolean;
  logLevel?: string;
}

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
    return loadConfig({ env: e, flags: flagOverrides(flags) });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliExit(EXIT.invalid, err.message);
    throw err;
  }
}

export function loggerFor(config: Config): Logger {
  return createLogger({ level: config.loop.logLevel });
}

/**
 * The door of a one-shot command: closed under MC_DRY_RUN / `--dry-run`, open otherwise. `run`, `once` and `plan`
 * build theirs with leadership in mind (src/cli/run-loop.ts, commands/loop.ts).
 */
export function commandDoor(config: Config): EffectsDoor {
  return config.loop.dryRun ? EffectsDoor.closed('dry-run') : EffectsDoor.open();
}

/** The board client behind `door` (its writes are refused while the door is closed), or a clear exit when Mission Control is not configured. */
export function missionControl(config: Config, logger: Logger, door: EffectsDoor, signal?: AbortSignal): MissionControlApi {
  if (!config.mc.apiUrl || !config.mc.authToken) {
    throw new CliExit(
      EXIT.invalid,
      'invalid configuration:\n  - MC_API_URL and MC_AUTH_TOKEN are not set (or api_url/auth_token in config/mission-control-ids.local.json); `npm start` runs against the embedded sandbox instead',
    );
  }
  return door.missionControl(
    new MissionControlClient({
      apiUrl: config.mc.apiUrl,
      token: config.mc.authToken,
      timeoutMs: config.mc.timeoutMs,
      streamConnectTimeoutMs: config.mc.streamConnectTimeoutMs,
      logger,
      ...(signal ? { signal } : {}),
    }),
  );
}
