import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

/** A kubeconfig file pointing at the fake Kubernetes API (for processes that read KUBECONFIG). */
export function writeKubeconfig(path: string, k8s: { url: string; token: string }, namespace: string): string {
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: k8s.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'mc', user: { token: k8s.token } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'mc', namespace } }],
      'current-context': 'fake',
    }),
    { mode: 0o600 },
  );
  return path;
}
