import { chownSync, chmodSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { GenericContainer } from 'testcontainers';
import { loadTestcontainers } from './mode.js';

/**
 * The image under test in container mode: the one `npm run image:build` tags (MC_IMAGE overrides), never
 * built here — CI builds it once before the suite, exactly as it is shipped. Each call gives a fresh
 * GenericContainer (a builder mutates: one shared instance would carry env and mounts across tests).
 */
export const IMAGE = process.env.MC_IMAGE ?? 'mc-controller:dev';
/** Every test container carries it, so a run that died half-way can be cleaned up (no Ryuk here). */
export const TEST_LABEL = 'mc-controller.test';
/** The image's user (Dockerfile USER). */
const UID = 1000;

let checked: Promise<void> | undefined;

export async function controllerImage(): Promise<GenericContainer> {
  const tc = await loadTestcontainers();
  checked ??= (async () => {
    const client = await tc.getContainerRuntimeClient();
    if (!(await client.image.exists(tc.ImageName.fromString(IMAGE))))
      throw new Error(`container mode: image ${IMAGE} is missing; build it with \`npm run image:build\``);
  })();
  await checked;
  // Callers that need more set their own. Without one, testcontainers waits for the image's HEALTHCHECK
  // status, which podman updates only through systemd timers (none here): it would wait forever. With host
  // networking there are no bound ports, so this strategy returns once the container runs.
  return new tc.GenericContainer(IMAGE).withLabels({ [TEST_LABEL]: 'true' }).withWaitStrategy(tc.Wait.forListeningPorts());
}

/**
 * Host paths in the controller's environment (state dir, host-root fixtures, state files), mounted at the
 * same path. Only temporary folders qualify, and they are handed to the image's user, as a volume's
 * fsGroup would: the container runs as uid 1000, the tests as whoever they are.
 */
export function hostPathMounts(env: Record<string, string>): Array<{ source: string; target: string; mode: 'rw' }> {
  const tmp = tmpdir();
  const dirs = new Set<string>();
  for (const value of Object.values(env)) {
    if (!isAbsolute(value) || relative(tmp, value).startsWith('..')) continue;
    const dir = existsSync(value) && statSync(value).isDirectory() ? value : dirname(value);
    if (dir !== tmp && existsSync(dir)) dirs.add(dir);
  }
  // A folder inside another mounted one needs no mount of its own.
  const roots = [...dirs].filter((d) => ![...dirs].some((o) => o !== d && !relative(o, d).startsWith('..')));
  for (const root of roots) giveToImageUser(root);
  return roots.map((d) => ({ source: d, target: d, mode: 'rw' as const }));
}

function giveToImageUser(path: string): void {
  try {
    chownSync(path, UID, UID);
  } catch {
    chmodSync(path, 0o777); // not root: let anyone write instead
  }
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) giveToImageUser(join(path, name));
}
