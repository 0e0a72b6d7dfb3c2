/**
 * Where the controller's KubeConfig comes from. In a pod: the service account (`loadFromCluster`).
 * Elsewhere an explicit file from validated config, never the silent `http://localhost:8080`
 * fallback of `loadFromDefault()` (controller-practices §5.2).
 */
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function isInCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env['KUBERNETES_SERVICE_HOST'] && env['KUBERNETES_SERVICE_PORT']);
}

export interface KubeConfigSource {
  /** Path to a kubeconfig file; wins over in-cluster detection. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** Returns undefined when neither a file nor a cluster is available: Kubernetes features stay off. */
export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig | undefined {
  const env = source.env ?? process.env;
  const kc = new KubeConfig();
  if (source.file) {
    kc.loadFromFile(source.file);
    return kc;
  }
  if (isInCluster(env)) {
    kc.loadFromCluster();
    return kc;
  }
  return undefined;
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
