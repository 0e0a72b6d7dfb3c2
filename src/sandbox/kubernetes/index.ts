export { startFakeKubernetes } from './server.js';
export type { FakeKubernetes, FakeKubernetesOptions, RecordedRequest, WorkloadSeed } from './server.js';
export type { KubeObject } from './store.js';
