import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './manifests.js';

/** The image `npm run image:build` tags; CI builds it before the tests. */
export const IMAGE = process.env.MC_IMAGE ?? 'mc-controller:dev';

/** The containers.conf scripts/container-env.sh writes (runc, explicit ulimits); written here if absent. */
export function podmanEnv(): NodeJS.ProcessEnv {
  const conf = join(REPO, '.cache', 'podman', 'containers.conf');
  if (!existsSync(conf)) spawnSync('bash', ['-c', 'ENGINE=podman source scripts/container-env.sh'], { cwd: REPO, stdio: 'inherit' });
  return { ...process.env, CONTAINERS_CONF: conf };
}

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

export function podman(args: string[], timeoutMs = 60_000): Promise<Exec> {
  return new Promise((resolve) => {
    execFile('podman', args, { env: podmanEnv(), timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** podman, failing with its stderr when it exits non-zero. */
export async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function imagePresent(image = IMAGE): Promise<boolean> {
  return (await podman(['image', 'exists', image])).code === 0;
}
