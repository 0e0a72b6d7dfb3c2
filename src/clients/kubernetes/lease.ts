/**
 * coordination.k8s.io/v1 Lease access for leader election: read, create, replace with the read
 * resourceVersion. Only this file knows the wire shape; callers see epoch-ms times and typed errors.
 */
import {
  CoordinationV1Api,
  Observable,
  type ConfigurationOptions,
  type KubeConfig,
  type RequestContext,
  type V1Lease,
} from '@kubernetes/client-node';
import { z } from 'zod';
import { LeaseApiError, LeaseConflictError, type LeaseClient, type LeaseRecord } from './lease-types.js';

export { LeaseApiError, LeaseConflictError, type LeaseClient, type LeaseRecord } from './lease-types.js';

// client-node 1.4.0 types MicroTime as Date but hands back the raw string; accept both.
const timeSchema = z
  .union([z.string(), z.date()])
  .nullish()
  .transform((v, ctx) => {
    if (v === null || v === undefined) return null;
    const ms = v instanceof Date ? v.getTime() : Date.parse(v);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `unparseable time ${String(v)}` });
      return z.NEVER;
    }
    return ms;
  });

const leaseSchema = z.object({
  metadata: z.object({ resourceVersion: z.string().min(1) }),
  spec: z
    .object({
      holderIdentity: z.string().nullish(),
      leaseDurationSeconds: z.number().int().nullish(),
      acquireTime: timeSchema,
      renewTime: timeSchema,
      leaseTransitions: z.number().int().nullish(),
    })
    .prefault({}),
});

/**
 * MicroTime is decoded with Go's `2006-01-02T15:04:05.000000Z07:00`: exactly six fractional digits.
 * A Date would serialize with three and the API server rejects it with 400.
 */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function fromWire(lease: V1Lease): LeaseRecord {
  const parsed = leaseSchema.safeParse(lease);
  if (!parsed.success) throw new LeaseApiError(`malformed Lease from the API server: ${parsed.error.message}`, undefined);
  const spec = parsed.data.spec;
  return {
    holderIdentity: spec.holderIdentity ? spec.holderIdentity : null,
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: spec.acquireTime,
    renewTime: spec.renewTime,
    leaseTransitions: spec.leaseTransitions ?? 0,
    resourceVersion: parsed.data.metadata.resourceVersion,
  };
}

function toWire(name: string, record: Omit<LeaseRecord, 'resourceVersion'> & { resourceVersion?: string }): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, ...(record.resourceVersion ? { resourceVersion: record.resourceVersion } : {}) },
    spec: {
      // null clears the holder (release); client-node drops undefined, so send null explicitly.
      holderIdentity: record.holderIdentity as string,
      leaseDurationSeconds: record.leaseDurationSeconds,
      acquireTime: (record.acquireTime === null ? null : microTime(record.acquireTime)) as unknown as Date,
      renewTime: (record.renewTime === null ? null : microTime(record.renewTime)) as unknown as Date,
      leaseTransitions: record.leaseTransitions,
    },
  };
}

function codeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Error text without the response body or headers, which can echo request details. */
function describe(op: string, err: unknown): string {
  const code = codeOf(err);
  return code !== undefined ? `${op}: HTTP ${code}` : `${op}: ${(err as Error)?.message ?? String(err)}`;
}

/** Wraps a value the way client-node's (observable) per-request middleware contract expects. */
const observe = <T>(value: T): Observable<T> => new Observable(Promise.resolve(value));

/**
 * Cancels the HTTP request when `signal` aborts, so a renew never outlives its deadline. client-node has no
 * per-call signal option; a per-request middleware calling RequestContext.setSignal is its public way.
 */
function withSignal(signal: AbortSignal | undefined): ConfigurationOptions | undefined {
  if (!signal) return undefined;
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(signal);
          return observe(ctx);
        },
        post: (res) => observe(res),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export function createLeaseClient(kc: KubeConfig, namespace: string, name: string): LeaseClient {
  const api = kc.makeApiClient(CoordinationV1Api);
  const wrap = async <T>(op: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (codeOf(err) === 409) throw new LeaseConflictError(describe(op, err));
      if (err instanceof LeaseApiError) throw err;
      throw new LeaseApiError(describe(op, err), codeOf(err));
    }
  };
  return {
    namespace,
    name,
    async get(signal) {
      try {
        return fromWire(await api.readNamespacedLease({ namespace, name }, withSignal(signal)));
      } catch (err) {
        if (codeOf(err) === 404) return undefined;
        if (err instanceof LeaseApiError) throw err;
        throw new LeaseApiError(describe(`read lease ${namespace}/${name}`, err), codeOf(err));
      }
    },
    create(record, signal) {
      return wrap(`create lease ${namespace}/${name}`, async () =>
        fromWire(await api.createNamespacedLease({ namespace, body: toWire(name, record) }, withSignal(signal))),
      );
    },
    replace(record, signal) {
      return wrap(`replace lease ${namespace}/${name}`, async () =>
        fromWire(await api.replaceNamespacedLease({ namespace, name, body: toWire(name, record) }, withSignal(signal))),
      );
    },
  };
}
