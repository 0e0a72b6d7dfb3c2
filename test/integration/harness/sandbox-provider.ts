import type { EmbeddedInfo } from '../../../src/cli/embedded.js';
import { Child, freePort } from './child.js';
import { controllerImage } from './image.js';
import { loadTestcontainers, resolveMode, type DepMode } from './mode.js';

/**
 * Mission Control sandbox + Discord fake + gateway simulator, as `mc-controller sandbox`: a child
 * process, or the repo's image in a container. Tests only see `info` (the ONE JSON ready line).
 */
export interface SandboxDep {
  info: EmbeddedInfo;
  mode: DepMode;
  stop(): Promise<void>;
}

export async function startSandboxDep(opts: { seed?: 'demo' | 'empty'; mode?: DepMode } = {}): Promise<SandboxDep> {
  const mode = opts.mode ?? (await resolveMode());
  const seed = opts.seed ?? 'empty';
  return mode === 'container' ? startInContainer(seed) : startAsProcess(seed);
}

async function startAsProcess(seed: string): Promise<SandboxDep> {
  // Address-in-use is impossible here: every port is chosen by the child itself (listen on 0).
  const child = new Child(['sandbox', '--seed', seed], { MC_LOG_LEVEL: 'warn' });
  try {
    const info = await child.readyLine<EmbeddedInfo>('mc-controller sandbox');
    return { info, mode: 'process', stop: () => child.stop() };
  } catch (err) {
    await child.stop(1_000);
    throw err;
  }
}

/**
 * The sandbox binds 127.0.0.1 only, so a published port would not reach it: the container shares
 * the host network and is given free host ports.
 */
async function startInContainer(seed: string): Promise<SandboxDep> {
  const tc = await loadTestcontainers();
  const ports = { mc: await freePort(), discord: await freePort(), control: await freePort(), gateway: await freePort() };
  const image = await controllerImage();
  const container = await image
    .withNetworkMode('host')
    .withCommand([
      'sandbox', '--seed', seed,
      '--mc-port', String(ports.mc), '--discord-port', String(ports.discord),
      '--control-port', String(ports.control), '--gateway-port', String(ports.gateway),
    ])
    .withWaitStrategy(tc.Wait.forLogMessage(/"mcApiUrl"/))
    .withStartupTimeout(30_000)
    .start();
  try {
    const info = await readyLineFromLogs<EmbeddedInfo>(await container.logs());
    return { info, mode: 'container', stop: async () => void (await container.stop({ timeout: 5_000 })) };
  } catch (err) {
    await container.stop({ timeout: 0 });
    throw err;
  }
}

export function readyLineFromLogs<T>(stream: NodeJS.ReadableStream, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no JSON ready line in the container log within ${timeoutMs} ms`)), timeoutMs);
    stream.on('data', (d: Buffer | string) => {
      buf += d.toString();
      for (const line of buf.split('\n')) {
        try {
          const v = JSON.parse(line.trim()) as unknown;
          if (v && typeof v === 'object' && 'mcApiUrl' in v) {
            clearTimeout(timer);
            resolve(v as T);
            return;
          }
        } catch {
          // a log line or a partial line
        }
      }
    });
    stream.on('error', (err) => reject(err));
  });
}
