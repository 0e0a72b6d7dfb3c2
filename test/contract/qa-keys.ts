/**
 * The kit's QA S1 against a gateway: a task linked to a key that is no session reference (`__qa_missing_1_<ts>`).
 * The real gateway refuses `sessions.usage` for it; the controller must take that as a finding (the watchdog
 * counts the session as missing) and never as a failed key. Same composition as task-lifecycle.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose } from '../../src/cli/compose.js';
import { EffectsDoor } from '../../src/runtime/effects/door.js';
import { startControllerStage, type ControllerStage } from './controller-stage.js';
import type { ContractExtension } from './scenarios.js';

export const qaKeysContract: ContractExtension = (target) => {
  describe('kit QA S1: a session key that is no session reference is a finding, not a failure', () => {
    let stage: ControllerStage;

    beforeAll(async () => {
      stage = await startControllerStage(target(), 'mc-qa-contract-');
    }, 60_000);

    afterAll(async () => {
      await stage?.close();
    });

    it('S1: first pass counts a retry, second pass moves it to review with needs_approval; no pass fails', async () => {
      const { mc, gateway, logger, sandbox } = stage;
      const config = stage.config({ MC_MAX_RETRIES: '1', MC_SESSION_MISSING_GRACE_SECONDS: '0' });
      const { controller } = compose({ config, logger, mc, gateway, door: EffectsDoor.open() });
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
