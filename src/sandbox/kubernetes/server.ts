/**
 * A small in-process Kubernetes API server (controller-practices §11.2): node:http on 127.0.0.1,
 * bearer-token auth, `kind: Status` errors, and only the resources mc-controller touches —
 * Leases, Nodes, Deployments/StatefulSets and their `/scale` subresource.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { dispatch, isWrite } from './routes.js';
import { conflict, StatusError } from './status.js';
import { DEPLOYMENTS, LEASES, NODES, ObjectStore, STATEFULSETS, type KubeObject } from './store.js';

export interface FakeKubernetesOptions {
  /** Bearer token the server accepts; a random one when omitted. */
  token?: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  status: number;
}

export interface WorkloadSeed {
  namespace: string;
  name: string;
  replicas: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface FakeKubernetes {
  url: string;
  token: string;
  /** A KubeConfig pointing at this server (plain http, token auth). */
  kubeConfig(namespace?: string): KubeConfig;
  store: ObjectStore;
  /** Every request in arrival order, for assertions on the wire (e.g. patch Content-Type). */
  requests: RecordedRequest[];
  /** The next write (POST/PUT/PATCH) fails with 409 Conflict, as if another writer won the race. */
  injectConflictOnce(): void;
  getLease(namespace: string, name: string): KubeObject | undefined;
  /** Writes a Lease directly (bypasses resourceVersion checks), e.g. to simulate a foreign holder. */
  putLease(namespace: string, name: string, spec: Record<string, unknown>): KubeObject;
  addNode(name: string, opts?: { memoryPressure?: boolean; labels?: Record<string, string> }): KubeObject;
  setMemoryPressure(name: string, pressure: boolean): KubeObject;
  addDeployment(seed: WorkloadSeed): KubeObject;
  addStatefulSet(seed: WorkloadSeed): KubeObject;
  getWorkload(kind: 'Deployment' | 'StatefulSet', namespace: string, name: string): KubeObject | undefined;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function nodeConditions(pressure: boolean, previous: unknown[] = []): unknown[] {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const old = previous.find((c) => (c as { type?: string }).type === 'MemoryPressure') as
    | { status?: string; lastTransitionTime?: string }
    | undefined;
  const status = pressure ? 'True' : 'False';
  const memory = {
    type: 'MemoryPressure',
    status,
    reason: pressure ? 'KubeletHasInsufficientMemory' : 'KubeletHasSufficientMemory',
    message: pressure ? 'kubelet has insufficient memory available' : 'kubelet has sufficient memory available',
    lastHeartbeatTime: now,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
  };
  const ready = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now };
  return [memory, ready];
}

function workload(seed: WorkloadSeed): KubeObject {
  const labels = seed.labels ?? { app: seed.name };
  return {
    metadata: { name: seed.name, namespace: seed.namespace, labels, annotations: seed.annotations ?? {} },
    spec: { replicas: seed.replicas, selector: { matchLabels: labels }, template: { metadata: { labels } } },
    status: { replicas: seed.replicas, readyReplicas: seed.replicas, availableReplicas: seed.replicas },
  };
}

export async function startFakeKubernetes(opts: FakeKubernetesOptions = {}): Promise<FakeKubernetes> {
  const token = opts.token ?? randomBytes(16).toString('hex');
  const store = new ObjectStore();
  const requests: RecordedRequest[] = [];
  let conflictPending = false;

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const method = (req.method ?? 'GET').toUpperCase();
      const contentType = req.headers['content-type'];
      const record: RecordedRequest = { method, path: url.pathname, query: url.search, contentType, status: 0 };
      requests.push(record);
      const reply = (status: number, body: unknown): void => {
        record.status = status;
        send(res, status, body);
      };
      try {
        const raw = await readBody(req);
        if (req.headers.authorization !== `Bearer ${token}`) {
          throw new StatusError(401, 'Unauthorized', 'Unauthorized');
        }
        let body: unknown;
        if (raw.length > 0) {
          try {
            body = JSON.parse(raw);
          } catch {
            throw new StatusError(400, 'BadRequest', 'the request body is not valid JSON');
          }
        }
        if (conflictPending && isWrite(method)) {
          conflictPending = false;
          const name = url.pathname.split('/').filter(Boolean).at(-1) ?? '';
          throw conflict('injected', name, 'Injected');
        }
        const out = dispatch(store, { method, path: url.pathname, query: url.searchParams, contentType, body });
        reply(out.status, out.body);
      } catch (err) {
        if (err instanceof StatusError) reply(err.code, err.toBody());
        else reply(500, new StatusError(500, 'BadRequest', String(err)).toBody());
      }
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    token,
    store,
    requests,
    kubeConfig(namespace = 'default') {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'fake-user', token }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'fake-user', namespace }],
        currentContext: 'fake',
      });
      return kc;
    },
    injectConflictOnce() {
      conflictPending = true;
    },
    getLease(namespace, name) {
      return store.find(LEASES, namespace, name);
    },
    putLease(namespace, name, spec) {
      return store.upsert(LEASES, namespace, { metadata: { name, namespace }, spec });
    },
    addNode(name, nodeOpts = {}) {
      return store.upsert(NODES, undefined, {
        metadata: { name, labels: nodeOpts.labels ?? { 'kubernetes.io/hostname': name } },
        status: { conditions: nodeConditions(nodeOpts.memoryPressure ?? false) },
      });
    },
    setMemoryPressure(name, pressure) {
      const node = store.get(NODES, undefined, name);
      const previous = (node.status?.['conditions'] as unknown[] | undefined) ?? [];
      return store.upsert(NODES, undefined, { ...node, status: { ...node.status, conditions: nodeConditions(pressure, previous) } });
    },
    addDeployment(seed) {
      return store.upsert(DEPLOYMENTS, seed.namespace, workload(seed));
    },
    addStatefulSet(seed) {
      return store.upsert(STATEFULSETS, seed.namespace, workload(seed));
    },
    getWorkload(kind, namespace, name) {
      return store.find(kind === 'Deployment' ? DEPLOYMENTS : STATEFULSETS, namespace, name);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
