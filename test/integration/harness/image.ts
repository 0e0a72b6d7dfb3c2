import type { GenericContainer } from 'testcontainers';
import { REPO_ROOT } from './child.js';
import { loadTestcontainers } from './mode.js';

let built: Promise<GenericContainer> | undefined;

/** The repo's Dockerfile image, built once per test worker (container mode only). */
export function controllerImage(): Promise<GenericContainer> {
  built ??= (async () => {
    const tc = await loadTestcontainers();
    return tc.GenericContainer.fromDockerfile(REPO_ROOT).build('mc-controller:integration', { deleteOnExit: false });
  })();
  return built;
}
