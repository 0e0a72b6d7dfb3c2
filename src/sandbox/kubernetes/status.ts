/**
 * Kubernetes `kind: Status` error bodies, the way kube-apiserver shapes them, so client-node's
 * ApiException carries the same `code`/`reason` a real cluster would produce.
 */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
}

export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details: StatusDetails = {},
  ) {
    super(message);
  }

  toBody(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

/** `leases.coordination.k8s.io "x" not found` — the resource string the real server uses in messages. */
export function notFound(resource: string, name: string, kind: string): StatusError {
  return new StatusError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind });
}

export function alreadyExists(resource: string, name: string, kind: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind });
}

export function conflict(resource: string, name: string, kind: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, kind },
  );
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}
