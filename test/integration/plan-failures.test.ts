/**
 * Issue 16 item 5: `plan` never hides a failing key. A done task whose delivery needs its comments, behind
 * a proxy that fails exactly that read: the key must be listed with its error and the exit code must not
 * say "nothing to do".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { mcClient } from '../../src/sandbox/testing/client.js';
import { jsonLines, runCli } from '../support/cli.js';

let sandbox: SandboxHandle;
let proxy: Server;
let cwd: string;
let env: Record<string, string>;
let taskId: string;

/** Forwards everything to the sandbox except the comment list of one task, which answers 500. */
function failingCommentsProxy(target: URL, failing: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.includes(`/tasks/${failing()}/comments`)) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"detail":"comments are down"}');
      return;
    }
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
  cwd = mkdtempSync(join(tmpdir(), 'mc-plan-fail-'));
  const i = sandbox.info;
  const direct = {
    MC_API_URL: i.mcApiUrl,
    MC_AUTH_TOKEN: i.mcAuthToken,
    MC_BOARD_ID: i.boardId,
    DISCORD_API_URL: i.discordApiUrl,
    DISCORD_BOT_TOKEN: i.discordBotToken,
    MC_DISCORD_CHANNEL: i.discordChannelId,
    MC_STATE_DIR: join(cwd, 'state'),
    MC_LOG_LEVEL: 'error',
  };
  expect((await runCli(['bootstrap'], direct, { cwd })).code).toBe(0);
  const mc = mcClient(sandbox.info);
  await mc.patch(`/boards/${sandbox.info.boardId}`, { require_approval_for_done: false });
  taskId = (await mc.createTask({ title: 'finished, no summary', status: 'done' })).body.id;
  const target = new URL(sandbox.info.mcApiUrl);
  proxy = await failingCommentsProxy(target, () => taskId);
  const apiUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}${target.pathname}`;
  env = { ...direct, MC_API_URL: apiUrl, MC_DELIVERY_BACKLOG: 'deliver' };
}, 30_000);

afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((ok) => proxy?.close(ok));
  await sandbox?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('plan with a key that cannot be planned', () => {
  it('lists the key with its error and exits 1 (never "nothing to do")', async () => {
    const table = await runCli(['plan', '--exit-code'], env, { cwd, timeoutMs: 60_000 });
    expect(table.code, table.stdout + table.stderr).toBe(1);
    expect(table.stdout).toContain(`FAILED task/${taskId}:`);
    expect(table.stdout).not.toMatch(/the board matches the desired state/);

    const json = await runCli(['plan', '--json'], env, { cwd, timeoutMs: 60_000 });
    expect(json.code).toBe(1);
    const failed = jsonLines(json.stdout).filter((l) => 'error' in l);
    expect(failed).toEqual([{ key: `task/${sandbox.info.boardId}/${taskId}`, error: expect.stringMatching(/500|comments/) }]);
  }, 120_000);
});
