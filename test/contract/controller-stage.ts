/**
 * A sandbox board with the controller's fields bootstrapped and a GatewaySource on the contract's gateway, for the
 * extensions that run the real composition (config → compose → reconcilers) against that gateway.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { GatewayClient } from '../../src/clients/gateway/index.js';
import { MissionControlClient } from '../../src/clients/mission-control/index.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { DESIRED_FIELDS } from '../../src/model/index.js';
import { runBootstrap } from '../../src/runtime/bootstrap.js';
import { EffectsDoor } from '../../src/runtime/effects/door.js';
import { oneShotExecutor } from '../../src/runtime/one-shot.js';
import { GatewaySource } from '../../src/runtime/gateway-source.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import type { ContractTarget } from './scenarios.js';

export interface ControllerStage {
  logger: Logger;
  sandbox: SandboxHandle;
  mc: MissionControlClient;
  gateway: GatewaySource;
  /** the controller's configuration for this board and gateway, plus `extra` settings */
  config(extra?: Record<string, string>): Config;
  close(): Promise<void>;
}

/** The controller's environment for a sandbox board and the contract's gateway. */
export function contractEnv(info: SandboxHandle['info'], target: Pick<ContractTarget, 'url' | 'token'>, stateDir: string): Record<string, string> {
  return {
    MC_API_URL: info.mcApiUrl,
    MC_AUTH_TOKEN: info.mcAuthToken,
    MC_BOARD_ID: info.boardId,
    MC_GATEWAY_URL: target.url,
    MC_GATEWAY_TOKEN: target.token,
    MC_STATE_DIR: stateDir,
  };
}

/** `onPush`: wire the gateway's `sessions.changed` push as src/cli/gateway.ts does (row into the source, then the key). */
export async function startControllerStage(target: ContractTarget, prefix: string, opts: { onPush?: (key: string) => void } = {}): Promise<ControllerStage> {
  const logger = pino({ level: 'silent' });
  const sandbox = await startSandbox({ seed: 'empty' });
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env = contractEnv(sandbox.info, target, join(dir, 'state'));
  const config = (extra: Record<string, string> = {}) => loadConfig({ cwd: dir, env: { ...env, ...extra } }).config;
  const mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, logger });
  const executor = oneShotExecutor({ mc, logger, stateDir: join(dir, 'state'), door: EffectsDoor.open() });
  await runBootstrap({ mc, executor, logger, closed: null }, DESIRED_FIELDS, [sandbox.info.boardId]);
  // src/cli/gateway.ts wires the same two pieces (it reads the package version, which only exists built)
  const onPush = opts.onPush;
  const gateway: GatewaySource = new GatewaySource(
    new GatewayClient({
      url: target.url,
      token: target.token,
      clientVersion: '0.1.0-contract',
      scopes: config().gateway.scopes,
      reconnect: false,
      logger,
      ...(onPush
        ? {
            events: {
              onSessionChanged: (key: string, row?: Parameters<GatewaySource["upsert"]>[0]) => {
                if (row) gateway.upsert(row);
                onPush(key);
              },
            },
          }
        : {}),
    }),
    logger,
  );
  return {
    logger,
    sandbox,
    mc,
    gateway,
    config,
    close: async () => {
      await gateway.api.close();
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
