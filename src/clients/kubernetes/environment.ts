/**
 * Where we run, without loading the Kubernetes client: callers decide from this whether to import it at all
 * (it costs over a second at start, and most runs — systemd, cron, the sandbox — never need it).
 */
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function isInCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env['KUBERNETES_SERVICE_HOST'] && env['KUBERNETES_SERVICE_PORT']);
}

/** The pod's own namespace from the service-account mount, or the kubeconfig context's. */
export function currentNamespace(kc: KubeConfig, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): string {
  try {
    const fromMount = readFile(SERVICE_ACCOUNT_NAMESPACE).trim();
    if (fromMount) return fromMount;
  } catch {
    // Not in a pod: fall through to the context.
  }
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}
