/**
 * Starts a real `openclaw gateway run` (Node 24 from the cache that scripts/install-real-gateway.sh fills)
 * on a free loopback port with token auth and the mock provider (openclaw-gateway.md §15.3).
 * The token travels only in the config file, never in argv; logs stay inside the work folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: two levels up from test/contract, three from its build in dist/test/contract (the bench's). */
function findRepoRoot(): string {
  let dir = resolve(fileURLToPath(new URL('.', import.meta.url)));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const repoRoot = findRepoRoot();
export const realGatewayCache = process.env.MC_REAL_GATEWAY_CACHE ?? join(repoRoot, '.cache/real-gateway');
const nodeBin = join(realGatewayCache, 'node24/node_modules/node/bin');
const openclawEntry = join(realGatewayCache, 'oc/node_modules/openclaw/openclaw.mjs');

export function realGatewayInstalled(): boolean {
  return existsSync(join(realGatewayCache, 'installed.json')) && existsSync(join(nodeBin, 'node')) && existsSync(openclawEntry);
}

export interface RealGateway {
  url: string;
  port: number;
  token: string;
  pid: number;
  workDir: string;
  /** ms from spawn to a successful hello-ok */
  startupMs: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

function gatewayConfig(port: number, token: string, mockBaseUrl: string, logFile: string): unknown {
  return {
    gateway: { mode: 'local', port, bind: 'loopback', auth: { mode: 'token', token } },
    logging: { file: logFile },
    models: {
      mode: 'merge',
      providers: {
        mock: {
          baseUrl: mockBaseUrl,
          apiKey: 'unused-by-mock',
          api: 'openai-completions',
          models: [
            {
              id: 'echo',
              name: 'Mock Echo',
              reasoning: false,
              input: ['text'],
              cost: { input: 3, output: 15, cacheRead: 0, cacheWrite: 0 },
              contextWindow: 128000,
              maxTokens: 4096,
            },
          ],
        },
      },
    },
    agents: { defaults: { model: { primary: 'mock/echo' }, utilityModel: '' } },
    // "ask" makes an exec of a non-allowlisted command wait for an operator decision
    tools: { exec: { mode: 'ask' } },
  };
}

async function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return new Promise((ok) => {
    const timer = setTimeout(() => ok(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      ok(true);
    });
  });
}

/** polls GET /readyz until ready (bounded) */
async function waitReady(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gateway exited early with code ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok && ((await res.json()) as { ready?: boolean }).ready === true) return;
    } catch {
      // not listening yet
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  throw new Error(`gateway not ready within ${timeoutMs} ms`);
}

export async function startRealGateway(opts: { workDir: string; mockBaseUrl: string; readyTimeoutMs?: number }): Promise<RealGateway> {
  const workDir = opts.workDir;
  const stateDir = join(workDir, 'state');
  const home = join(workDir, 'home');
  mkdirSync(stateDir, { recursive: true });
  mkdirSync(home, { recursive: true });
  const port = await freePort();
  const token = randomBytes(24).toString('hex');
  const logFile = join(workDir, 'gateway.log');
  writeFileSync(join(stateDir, 'openclaw.json'), JSON.stringify(gatewayConfig(port, token, opts.mockBaseUrl, logFile), null, 2), {
    mode: 0o600,
  });

  mkdirSync(join(workDir, 'tmp'), { recursive: true });
  const out = openSync(join(workDir, 'gateway.stdout.log'), 'a');
  const started = Date.now();
  const child = spawn(join(nodeBin, 'node'), [openclawEntry, 'gateway', 'run'], {
    cwd: workDir,
    // own process group, so a gateway that ignores SIGTERM can be killed together with its workers
    detached: true,
    stdio: ['ignore', out, out],
    env: {
      PATH: `${nodeBin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: home,
      TMPDIR: join(workDir, 'tmp'),
      OPENCLAW_STATE_DIR: stateDir,
      OPENCLAW_DISABLE_BONJOUR: '1',
      OPENCLAW_NO_RESPAWN: '1',
      OPENCLAW_SKIP_CHANNELS: '1',
      OPENCLAW_EXEC_SHELL_SNAPSHOT: '0',
    },
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error('failed to spawn the gateway');
  const pid = child.pid;

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(pid, 'SIGTERM');
    if (!(await waitForExit(child, 15_000))) {
      process.kill(-pid, 'SIGKILL');
      await waitForExit(child, 5_000);
    }
  };

  try {
    await waitReady(port, child, opts.readyTimeoutMs ?? 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `ws://127.0.0.1:${port}`, port, token, pid, workDir, startupMs: Date.now() - started, stop };
}
