import { afterAll, beforeAll, it } from 'vitest';
import type { EmbeddedInfo } from '../../../src/cli/embedded.js';
import { runToEnd } from './child.js';
import { controllerEnv, once, stateDir, type Env, type OnceResult } from './controller-provider.js';
import { startSandboxDep, type SandboxDep } from './sandbox-provider.js';
import { World } from './world.js';

/**
 * The scenario runner: one sandbox per test file (process or container), the controller's custom
 * fields bootstrapped through the real CLI, one state folder, and per-scenario timings printed.
 * Scenarios in a file share the board, so each one asserts only on the tasks it created.
 */
export interface Stage {
  dep: SandboxDep;
  info: EmbeddedInfo;
  world: World;
  state: string;
  env(extra?: Env): Env;
  once(extra?: Env, args?: string[]): Promise<OnceResult>;
}

const timings: Array<[string, number]> = [];

export function useStage(opts: { seed?: 'demo' | 'empty'; bootstrap?: boolean; boardRules?: Record<string, unknown> } = {}): Stage {
  const stage = {} as Stage;
  let dir: { path: string; remove(): void };
  beforeAll(async () => {
    const t0 = performance.now();
    const dep = await startSandboxDep({ seed: opts.seed ?? 'empty' });
    dir = stateDir();
    Object.assign(stage, {
      dep,
      info: dep.info,
      world: new World(dep.info),
      state: dir.path,
      env: (extra: Env = {}) => controllerEnv(dep.info, dir.path, extra),
      once: async (extra: Env = {}, args: string[] = []) => once(controllerEnv(dep.info, dir.path, extra), args),
    } satisfies Stage);
    if (opts.boardRules)
      await fetch(`${dep.info.mcApiUrl}/boards/${dep.info.boardId}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${dep.info.mcAuthToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(opts.boardRules),
      }).then(async (r) => {
        if (!r.ok) throw new Error(`board rules: ${r.status} ${await r.text()}`);
      });
    if (opts.bootstrap !== false) {
      const b = await runToEnd(['bootstrap'], controllerEnv(dep.info, dir.path));
      if (b.code !== 0) throw new Error(`bootstrap failed (${b.code}): ${b.stderr.slice(-2000)}`);
    }
    console.log(`[scenario] setup (${dep.mode}) ${(performance.now() - t0).toFixed(0)} ms`);
  });
  afterAll(async () => {
    await stage.dep?.stop();
    dir?.remove();
    if (timings.length) console.log(timings.map(([n, ms]) => `[scenario] ${(ms / 1000).toFixed(1)} s  ${n}`).join('\n'));
  });
  return stage;
}

/** One scenario = one test body; its wall time is recorded and printed after the file. */
export function scenario(name: string, body: () => Promise<void>, timeoutMs = 60_000): void {
  it(
    name,
    async () => {
      const t0 = performance.now();
      try {
        await body();
      } finally {
        timings.push([name, performance.now() - t0]);
      }
    },
    timeoutMs,
  );
}

/** Runs `once` and fails with its stderr when it does not exit 0. */
export async function mustOnce(stage: Stage, extra: Env = {}): Promise<OnceResult> {
  const r = await stage.once(extra);
  if (r.code !== 0) throw new Error(`once exited ${r.code} ${r.signal ?? ''}\n${r.stderr.slice(-3000)}`);
  return r;
}
