/**
 * The kit's QA S1 against a gateway: a task linked to a key that is no session reference (`__qa_missing_1_<ts>`).
 * The real gateway refuses `sessions.usage` for it; the controller must take that as a finding (the watchdog
 * counts the session as missing) and never as a failed key. Same composition as task-lifecycle.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '../../src/clients/gateway/index.js';
import { MissionControlClient } from '../../src/clients/mission-control/index.js';
import { compose } from '../../src/cli/compose.js';
import { loadConfig } from '../../src/config/index.js';
import { DESIRED_FIELDS } from '../../src/model/index.js';
import { runBootstrap } from '../../src/runtime/bootstrap.js';
import { GatewaySource } from '../../src/runtime/gateway-source.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import type { ContractExtension } from './scenarios.js';

export const qaKeysContract: ContractExtension = (target) => {
  describe('kit QA S1: a session key that is no session reference is a finding, not a failure', () => {
    const logger = pino({ level: 'silent' });
    let sandbox: SandboxHandle;
    let mc: MissionControlClient;
    let gateway: GatewaySource;
    let dir: string;

    beforeAll(async () => {
      sandbox = await startSandbox({ seed: 'empty' });
      dir = mkdtempSync(join(tmpdir(), 'mc-qa-contract-'));
      mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, logger });
      await runBootstrap(mc, DESIRED_FIELDS, [sandbox.info.boardId], { dryRun: false });
      gateway = new GatewaySource(
        new GatewayClient({ url: target().url, token: target().token, clientVersion: '0.1.0-contract', scopes: ['operator.read', 'operator.admin'], reconnect: false, logger }),
        logger,
      );
    }, 60_000);

    afterAll(async () => {
      await gateway?.api.close();
      await sandbox?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('S1: first pass counts a retry, second pass moves it to review with needs_approval; no pass fails', async () => {
      const { config } = loadConfig({
        cwd: dir,
        env: {
          MC_API_URL: sandbox.info.mcApiUrl,
          MC_AUTH_TOKEN: sandbox.info.mcAuthToken,
          MC_BOARD_ID: sandbox.info.boardId,
          MC_GATEWAY_URL: target().url,
          MC_GATEWAY_TOKEN: target().token,
          MC_STATE_DIR: join(dir, 'state'),
          MC_MAX_RETRIES: '1',
          MC_SESSION_MISSING_GRACE_SECONDS: '0',
        },
      });
      const { controller } = compose({ config, logger, mc, gateway, dryRun: false });
      const task = await mc.createTask(sandbox.info.boardId, {
        title: 'S1 recovery loop',
        status: 'in_progress',
        customFieldValues: { mc_session_key: `__qa_missing_1_${Date.now()}`, mc_retry_count: 0, mc_progress: 10 },
      });
      const read = async () => (await mc.listTasks(sandbox.info.boardId)).items.find((t) => t.id === task.id)!;

      expect((await controller.pass('apply')).failures).toEqual([]);
      const first = await read();
      expect(first.status).toBe('in_progress');
      expect(first.fields).toMatchObject({ mc_retry_count: 1, mc_last_error: 'retry' });

      expect((await controller.pass('apply')).failures).toEqual([]);
      const second = await read();
      expect(second.status).toBe('review');
      expect(second.fields).toMatchObject({ mc_last_error: 'needs_approval' });
    }, 60_000);
  });
};
