/**
 * In-memory object store with one cluster-wide resourceVersion counter, as etcd gives the real
 * server: every write bumps it, and a write carrying a stale resourceVersion is a 409 Conflict.
 */
import { randomUUID } from 'node:crypto';
import { parseLabelSelector } from './selector.js';
import { alreadyExists, conflict, notFound, StatusError } from './status.js';
import { applyPatch } from './patch.js';

export interface ResourceType {
  /** `Lease`, `Node`, … */
  kind: string;
  /** `coordination.k8s.io/v1`, `v1`, `apps/v1` */
  apiVersion: string;
  /** The `resource.group` string used in error messages (`leases.coordination.k8s.io`). */
  resource: string;
  namespaced: boolean;
  /** Field validation the real server does while decoding the body (throws a StatusError). */
  validate?: (obj: KubeObject) => void;
}

/**
 * Lease times are `MicroTime`, decoded with Go's layout `2006-01-02T15:04:05.000000Z07:00`, which
 * needs exactly six fractional digits: a JS `Date` (milliseconds) is rejected with 400, as here.
 */
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
function validateLease(obj: KubeObject): void {
  for (const field of ['acquireTime', 'renewTime']) {
    const value = obj.spec?.[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' || !MICRO_TIME.test(value)) {
      throw new StatusError(
        400,
        'BadRequest',
        `Lease in version "v1" cannot be handled as a Lease: parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse as ".000000"`,
      );
    }
  }
}

export const LEASES: ResourceType = {
  kind: 'Lease',
  apiVersion: 'coordination.k8s.io/v1',
  resource: 'leases.coordination.k8s.io',
  namespaced: true,
  validate: validateLease,
};
export const NODES: ResourceType = { kind: 'Node', apiVersion: 'v1', resource: 'nodes', namespaced: false };
export const DEPLOYMENTS: ResourceType = {
  kind: 'Deployment',
  apiVersion: 'apps/v1',
  resource: 'deployments.apps',
  namespaced: true,
};
export const STATEFULSETS: ResourceType = {
  kind: 'StatefulSet',
  apiVersion: 'apps/v1',
  resource: 'statefulsets.apps',
  namespaced: true,
};

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Typed Go structs decode JSON null to a nil pointer that is omitted on output: drop nulls likewise. */
function dropNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, dropNulls(v)]),
  );
}

function asObject(value: unknown): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StatusError(400, 'BadRequest', 'the request body must be a JSON object');
  }
  const obj = dropNulls(value) as KubeObject;
  if (typeof obj.metadata !== 'object' || obj.metadata === null) obj.metadata = { name: '' };
  return obj;
}

export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private revision = 0;

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${type.resource}/${type.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  private nextVersion(): string {
    this.revision += 1;
    return String(this.revision);
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const found = this.objects.get(this.key(type, namespace, name));
    if (!found) throw notFound(type.resource, name, type.kind);
    return structuredClone(found);
  }

  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.objects.get(this.key(type, namespace, name));
    return found ? structuredClone(found) : undefined;
  }

  list(type: ResourceType, namespace: string | undefined, labelSelector?: string | null): KubeObject[] {
    const matches = parseLabelSelector(labelSelector);
    const prefix = `${type.resource}/`;
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, obj]) => obj)
      .filter((obj) => !type.namespaced || namespace === undefined || obj.metadata.namespace === namespace)
      .filter((obj) => matches(obj.metadata.labels ?? {}))
      .map((obj) => structuredClone(obj));
  }

  /** The list's own resourceVersion: the store revision at read time. */
  currentRevision(): string {
    return String(this.revision);
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown): KubeObject {
    const obj = asObject(structuredClone(body));
    const name = obj.metadata.name;
    if (!name) throw new StatusError(422, 'Invalid', `${type.kind} "" is invalid: metadata.name: Required value`);
    const key = this.key(type, namespace, name);
    if (this.objects.has(key)) throw alreadyExists(type.resource, name, type.kind);
    type.validate?.(obj);
    const stored: KubeObject = {
      ...obj,
      apiVersion: type.apiVersion,
      kind: type.kind,
      metadata: {
        ...obj.metadata,
        ...(type.namespaced ? { namespace } : {}),
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        resourceVersion: this.nextVersion(),
        generation: 1,
      },
    };
    this.objects.set(key, stored);
    return structuredClone(stored);
  }

  /** PUT: a resourceVersion in the body must match (optimistic concurrency); none means unconditional. */
  replace(type: ResourceType, namespace: string | undefined, name: string, body: unknown): KubeObject {
    const obj = asObject(structuredClone(body));
    const current = this.get(type, namespace, name);
    if (obj.metadata.name && obj.metadata.name !== name) {
      throw new StatusError(400, 'BadRequest', `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    const sent = obj.metadata.resourceVersion;
    if (sent !== undefined && sent !== '' && sent !== current.metadata.resourceVersion) {
      throw conflict(type.resource, name, type.kind);
    }
    type.validate?.(obj);
    return this.store(type, namespace, current, obj);
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    contentType: string | undefined,
  ): KubeObject {
    const current = this.get(type, namespace, name);
    const patched = asObject(applyPatch(current, body, contentType));
    // A patch that names a resourceVersion is a precondition, as on the real server.
    if (patched.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(type.resource, name, type.kind);
    }
    type.validate?.(patched);
    return this.store(type, namespace, current, patched);
  }

  /** Writes `next` over `current`, keeping identity fields and bumping the resourceVersion. */
  private store(type: ResourceType, namespace: string | undefined, current: KubeObject, next: KubeObject): KubeObject {
    const specChanged = JSON.stringify(next.spec) !== JSON.stringify(current.spec);
    const stored: KubeObject = {
      ...next,
      apiVersion: type.apiVersion,
      kind: type.kind,
      metadata: {
        ...next.metadata,
        name: current.metadata.name,
        ...(type.namespaced ? { namespace } : {}),
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        resourceVersion: this.nextVersion(),
        generation: (current.metadata.generation ?? 1) + (specChanged ? 1 : 0),
      },
    };
    this.objects.set(this.key(type, namespace, current.metadata.name), stored);
    return structuredClone(stored);
  }

  /** Test-side write that bypasses concurrency checks (seeding, simulating other writers). */
  upsert(type: ResourceType, namespace: string | undefined, obj: KubeObject): KubeObject {
    const current = this.find(type, namespace, obj.metadata.name);
    if (!current) return this.create(type, namespace, obj);
    return this.store(type, namespace, current, structuredClone(obj));
  }
}
