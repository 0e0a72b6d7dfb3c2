import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';

const nodeSchema = z.object({
  status: z
    .object({ conditions: z.array(z.object({ type: z.string(), status: z.string() })).nullish() })
    .nullish(),
});

/**
 * Reads the Node's `MemoryPressure` condition (the kubelet's level signal, `MC_NODE_NAME`). True/False as set by
 * the kubelet; null when the condition is missing, Unknown, or the object is not shaped like a Node.
 */
export function makeNodeMemoryPressureReader(kc: KubeConfig, nodeName: string): () => Promise<boolean | null> {
  const core = kc.makeApiClient(CoreV1Api);
  return async () => {
    const parsed = nodeSchema.safeParse(await core.readNode({ name: nodeName }));
    if (!parsed.success) return null;
    const cond = parsed.data.status?.conditions?.find((c) => c.type === 'MemoryPressure');
    return cond?.status === 'True' ? true : cond?.status === 'False' ? false : null;
  };
}
