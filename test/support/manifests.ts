import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const REPO = join(import.meta.dirname, '..', '..');
export type Doc = Record<string, any>;

/** The objects `kubectl apply -k <dir>` would send: kubectl's built-in kustomize renders them. */
export function renderKustomization(dir: string): Doc[] {
  const out = spawnSync('kubectl', ['kustomize', join(REPO, dir)], { encoding: 'utf8', timeout: 60_000 });
  if (out.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${out.error?.message ?? out.stderr}`);
  return parseAllDocuments(out.stdout).map((d) => {
    if (d.errors.length) throw new Error(`${dir}: ${d.errors.join('; ')}`);
    return d.toJS() as Doc;
  });
}

export const KUSTOMIZATIONS = ['manifests/base', 'manifests/overlays/prometheus'] as const;
