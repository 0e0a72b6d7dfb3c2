/**
 * Issue 4 against a gateway (added to the main contract describe so the real target costs no extra gateway
 * start): a run spawned with label = task id, from `task spawn-payload`'s text, becomes linked and
 * in_progress with no manual step, and its TASK_UPDATE reply is mirrored once. The controller is the real
 * composition (config → compose → registered reconcilers) running `pass('apply')` in this process.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient } from '../../src/clients/gateway/index.js';
import { MissionControlClient } from '../../src/clients/mission-control/index.js';
import { compose } from '../../src/cli/compose.js';
import { EffectsDoor } from '../../src/runtime/effects/door.js';
import { spawnText } from '../../src/cli/task/spawn-payload.js';
import { loadConfig } from '../../src/config/index.js';
import { DESIRED_FIELDS, readStatus, type Task } from '../../src/model/index.js';
import { runBootstrap } from '../../src/runtime/bootstrap.js';
import type { Controller } from '../../src/runtime/controller.js';
import { GatewaySource } from '../../src/runtime/gateway-source.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import type { ContractExtension } from './scenarios.js';

export const taskLifecycleContract: ContractExtension = (target, opts) => {
  describe('task lifecycle: spawn with label = task id → auto-link → TASK_UPDATE mirrored', () => {
    const parentKey = `agent:main:mc-contract-lifecycle-${randomUUID().slice(0, 8)}`;
    const logger = pino({ level: 'silent' });
    let sandbox: SandboxHandle;
    let mc: MissionControlClient;
    let gateway: GatewaySource;
    let controller: Controller;
    let dir: string;
    let task: Task;

    beforeAll(async () => {
      sandbox = await startSandbox({ seed: 'empty' });
      dir = mkdtempSync(join(tmpdir(), 'mc-lifecycle-contract-'));
      const { config } = loadConfig({
        cwd: dir,
        env: {
          MC_API_URL: sandbox.info.mcApiUrl,
          MC_AUTH_TOKEN: sandbox.info.mcAuthToken,
          MC_BOARD_ID: sandbox.info.boardId,
          MC_GATEWAY_URL: target().url,
          MC_GATEWAY_TOKEN: target().token,
          MC_STATE_DIR: join(dir, 'state'),
        },
      });
      mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, logger });
      await runBootstrap(mc, DESIRED_FIELDS, [sandbox.info.boardId], { dryRun: false });
      // src/cli/gateway.ts wires the same two pieces (it reads the package version, which only exists built)
      gateway = new GatewaySource(
        new GatewayClient({ url: target().url, token: target().token, clientVersion: '0.1.0-contract', scopes: config.gateway.scopes, reconnect: false, logger }),
        logger,
      );
      controller = compose({ config, logger, mc, gateway, door: EffectsDoor.open() }).controller;
      task = await mc.createTask(sandbox.info.boardId, { title: 'Lifecycle contract', description: 'Say hello.', status: 'inbox' });
      const update = JSON.stringify({ taskId: task.id, status: 'done', progress: 100, summary: 'greeting {sent}', cost: 0.01 });
      await target().spawnTask!(parentKey, task.id, `MOCK_TASK_UPDATE ${update}\n\n${spawnText(task)}`);
    }, 60_000);

    afterAll(async () => {
      await gateway?.api.close();
      await sandbox?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const read = async () => (await mc.listTasks(sandbox.info.boardId)).items.find((t) => t.id === task.id)!;
    const comments = async () => (await mc.listComments(sandbox.info.boardId, task.id)).items.map((c) => c.message);

    it('links the spawned run and moves the task to in_progress with no manual step, then mirrors its TASK_UPDATE once', async () => {
      const deadline = Date.now() + opts.settleMs;
      let linkedAs: Task | null = null;
      let mirrored: Task | null = null;
      while (Date.now() < deadline && !mirrored) {
        const report = await controller.pass('apply');
        expect(report.failures).toEqual([]);
        const t = await read();
        if (!linkedAs && typeof t.fields.mc_session_key === 'string') linkedAs = t;
        if (Object.keys(readStatus(t.fields).ledger).some((k) => k.startsWith('tu:'))) mirrored = t;
        else await new Promise((ok) => setTimeout(ok, 500));
      }
      if (!mirrored) {
        // what the loop saw, for the failure message
        const key = String((await read()).fields.mc_session_key);
        const history = await gateway.api.chatHistory(key, 20).catch((e: unknown) => String(e));
        console.warn(JSON.stringify({ row: gateway.session(key), history, task: (await read()).fields }, null, 1).slice(0, 4000));
      }
      expect(linkedAs, 'the task was never linked').not.toBeNull();
      expect(mirrored, 'the TASK_UPDATE reply was never mirrored').not.toBeNull();
      const child = gateway.session(String(linkedAs!.fields.mc_session_key));
      expect(child?.label).toBe(task.id);
      expect(child?.spawnedBy ?? child?.parentSessionKey).toBe(parentKey);
      // the pass that linked it either left it in_progress, or (run already finished) mirrored in the same read
      expect(linkedAs!.status === 'in_progress' || linkedAs === mirrored).toBe(true);
      expect(mirrored!.fields).toMatchObject({ mc_progress: 100, mc_output_summary: 'greeting {sent}', mc_actual_cost_usd: 0.01 });
      // the sandbox board requires an approval before done: review, Blocked(DoneAwaitingApproval)
      expect(mirrored!.status).toBe('review');
      const all = await comments();
      expect(all.filter((c) => c.includes('linked automatically'))).toHaveLength(1);
      expect(all.filter((c) => c.includes('TASK_UPDATE from session'))).toHaveLength(1);

      // The run may still be ending (watchdog completion, final cost); once the world settles a pass writes
      // nothing, and neither the link nor the mirror ever repeats.
      let writes = -1;
      for (let i = 0; i < 40 && writes !== 0 && Date.now() < deadline + opts.settleMs; i++) {
        writes = (await controller.pass('apply')).writes;
        if (writes !== 0) await new Promise((ok) => setTimeout(ok, 500));
      }
      expect(writes).toBe(0);
      const after = await comments();
      expect(after.filter((c) => c.includes('linked automatically'))).toHaveLength(1);
      expect(after.filter((c) => c.includes('TASK_UPDATE from session'))).toHaveLength(1);
    }, 180_000);
  });
};
