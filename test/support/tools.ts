import { spawnSync } from 'node:child_process';

/**
 * An external tool a deployment test needs (podman, prometheus, promtool, systemd-analyze, kubectl).
 * Missing locally: the tests skip with a loud line saying how to get it. Missing in CI (CI=true): they run
 * and fail on `require()`, so a broken install step can never pass as a skip.
 */
export interface Tool {
  name: string;
  available: boolean;
  /** Skip only outside CI. */
  skip: boolean;
  require(): void;
}

const inCi = (): boolean => ['true', '1'].includes((process.env.CI ?? '').toLowerCase());

export function tool(name: string, hint: string, probeArgs: string[] = ['--version']): Tool {
  const probe = spawnSync(name, probeArgs, { encoding: 'utf8', timeout: 30_000 });
  const available = probe.status === 0;
  const why = probe.error ? probe.error.message : `exit ${probe.status}: ${(probe.stderr ?? '').trim().split('\n')[0]}`;
  const skip = !available && !inCi();
  if (skip) console.warn(`\n!!! SKIPPING tests that need ${name} (${why}): ${hint}. CI runs them.\n`);
  return {
    name,
    available,
    skip,
    require() {
      if (!available) throw new Error(`${name} is required here (CI=true) but unusable (${why}): ${hint}`);
    },
  };
}

export const CONTAINER_TOOLS_HINT = 'sudo bash scripts/install-container-tools.sh';
