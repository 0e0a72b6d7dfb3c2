/**
 * Where the controller's KubeConfig comes from. In a pod: the service account (`loadFromCluster`).
 * Elsewhere an explicit file from validated config, never the silent `http://localhost:8080`
 * fallback of `loadFromDefault()` (controller-practices §5.2).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { isInCluster } from './environment.js';

export { currentNamespace, isInCluster } from './environment.js';

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
