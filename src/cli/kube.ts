import type { KubeConfig } from '@kubernetes/client-node';
import { isInCluster } from '../clients/kubernetes/environment.js';

/**
 * A KubeConfig when one applies (an explicit file, or running in a pod), else undefined — decided before the
 * Kubernetes client is imported, so runs outside a cluster never load it.
 */
export async function kubeConfig(source: { file?: string | undefined; env?: NodeJS.ProcessEnv } = {}): Promise<KubeConfig | undefined> {
  const env = source.env ?? process.env;
  if (!source.file && !isInCluster(env)) return undefined;
  const { loadKubeConfig } = await import('../clients/kubernetes/kubeconfig.js');
  return loadKubeConfig({ env, ...(source.file ? { file: source.file } : {}) });
}
