/** Typed gateway failures. Callers branch on `code` / `detailCode` (openclaw-gateway.md §5), never on text. */

export type GatewayErrorCode =
  | 'INVALID_REQUEST'
  | 'FORBIDDEN'
  | 'UNAVAILABLE'
  | 'NOT_PAIRED'
  | 'APPROVAL_NOT_FOUND'
  /** ours: the request or handshake got no answer in time */
  | 'TIMEOUT'
  /** ours: no open connection, or it dropped while the request was in flight */
  | 'DISCONNECTED'
  /** ours: the gateway answered with something we could not parse */
  | 'BAD_RESPONSE'
  | (string & {});

export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: GatewayErrorCode;
  /** `error.details.code`, e.g. AUTH_TOKEN_MISMATCH, PROTOCOL_MISMATCH, MISSING_SCOPE */
  readonly detailCode: string | null;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  readonly method: string | null;

  constructor(opts: {
    code: GatewayErrorCode;
    message: string;
    detailCode?: string | null;
    retryable?: boolean;
    retryAfterMs?: number | null;
    method?: string | null;
  }) {
    const prefix = opts.method ? `${opts.method}: ` : '';
    const detail = opts.detailCode ? ` (${opts.detailCode})` : '';
    super(`${prefix}${opts.code}${detail}: ${oneLine(opts.message)}`);
    this.code = opts.code;
    this.detailCode = opts.detailCode ?? null;
    this.retryable = opts.retryable ?? false;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.method = opts.method ?? null;
  }

  /** authentication/authorization problems will not heal by reconnecting quickly */
  get isAuthFailure(): boolean {
    return (this.detailCode ?? '').startsWith('AUTH_') || this.detailCode === 'PAIRING_REQUIRED' || this.code === 'NOT_PAIRED';
  }
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 297)}...` : flat;
}

/** Belt and braces: a gateway echoing the secret back must not leak it through our messages. */
export function scrubSecret(text: string, secret: string): string {
  return secret.length >= 4 ? text.split(secret).join('***') : text;
}
