/**
 * URL → store operation. Only the paths the controller uses exist; anything else is a 404
 * `kind: Status`, which is what a real server says for an unknown resource too.
 */
import { DEPLOYMENTS, LEASES, NODES, STATEFULSETS, type KubeObject, type ObjectStore, type ResourceType } from './store.js';
import { patchScale, replaceScale, toScale } from './scale.js';
import { StatusError } from './status.js';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string | undefined;
  body: unknown;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

const PATTERNS: Array<{ re: RegExp; type: (m: RegExpExecArray) => ResourceType }> = [
  { re: /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/([^/]+)\/(leases)(?:\/([^/]+))?()$/, type: () => LEASES },
  { re: /^\/api\/v1\/()(nodes)(?:\/([^/]+))?()$/, type: () => NODES },
  {
    re: /^\/apis\/apps\/v1\/(?:namespaces\/([^/]+)\/)?(deployments|statefulsets)(?:\/([^/]+)(?:\/(scale))?)?$/,
    type: (m) => (m[2] === 'deployments' ? DEPLOYMENTS : STATEFULSETS),
  },
];

function matchRoute(path: string): Route | undefined {
  for (const pattern of PATTERNS) {
    const m = pattern.re.exec(path);
    if (!m) continue;
    return {
      type: pattern.type(m),
      namespace: m[1] ? decodeURIComponent(m[1]) : undefined,
      name: m[3] ? decodeURIComponent(m[3]) : undefined,
      subresource: m[4] || undefined,
    };
  }
  return undefined;
}

function listKind(type: ResourceType, items: KubeObject[], revision: string): unknown {
  return { apiVersion: type.apiVersion, kind: `${type.kind}List`, metadata: { resourceVersion: revision }, items };
}

function methodNotAllowed(method: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource (${method})`);
}

export function isWrite(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE';
}

export function dispatch(store: ObjectStore, req: ApiRequest): ApiResponse {
  const route = matchRoute(req.path);
  if (!route) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  const { type, namespace, name, subresource } = route;
  // Nodes are cluster-scoped and read-only here: the kubelet, not the controller, writes them.
  if (type === NODES && req.method !== 'GET') throw methodNotAllowed(req.method);

  if (name === undefined) {
    if (req.method === 'GET') {
      const items = store.list(type, namespace, req.query.get('labelSelector'));
      return { status: 200, body: listKind(type, items, store.currentRevision()) };
    }
    if (req.method === 'POST' && type.namespaced && namespace !== undefined) {
      return { status: 201, body: store.create(type, namespace, req.body) };
    }
    throw methodNotAllowed(req.method);
  }

  if (subresource === 'scale') {
    const ns = namespace ?? '';
    switch (req.method) {
      case 'GET':
        return { status: 200, body: toScale(store.get(type, ns, name)) };
      case 'PUT':
        return { status: 200, body: replaceScale(store, type, ns, name, req.body) };
      case 'PATCH':
        return { status: 200, body: patchScale(store, type, ns, name, req.body, req.contentType) };
      default:
        throw methodNotAllowed(req.method);
    }
  }

  switch (req.method) {
    case 'GET':
      return { status: 200, body: store.get(type, namespace, name) };
    case 'PUT':
      return { status: 200, body: store.replace(type, namespace, name, req.body) };
    case 'PATCH':
      return { status: 200, body: store.patch(type, namespace, name, req.body, req.contentType) };
    default:
      throw methodNotAllowed(req.method);
  }
}
