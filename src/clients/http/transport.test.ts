import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { HttpTransport, buildQuery } from './transport.js';

const ORIGIN = 'http://peer.test';
const SECRET = 'sekret-token-value-that-must-never-leak-0123456789abcdef';

let agent: MockAgent;
let seen: { method: string; path: string; headers: Record<string, string> }[];

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  seen = [];
});
afterEach(async () => {
  await agent.close();
});

/** queue replies for one path; every request is recorded */
function replies(path: string, ...answers: { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }[]) {
  const pool = agent.get(ORIGIN);
  for (const a of answers) {
    const scope = pool
      .intercept({ path: (p) => p.split('?')[0] === path, method: () => true })
      .reply((opts) => {
        seen.push({ method: opts.method, path: opts.path, headers: (opts.headers ?? {}) as Record<string, string> });
        const data = typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? null);
        return { statusCode: a.status, data, responseOptions: { headers: { 'content-type': 'application/json', ...a.headers } } };
      });
    if (a.delayMs) scope.delay(a.delayMs);
  }
}

function transport(extra: Partial<ConstructorParameters<typeof HttpTransport>[0]> = {}) {
  return new HttpTransport({
    baseUrl: `${ORIGIN}/api/v1/`,
    headers: { authorization: `Bearer ${SECRET}` },
    dispatcher: agent,
    backoff: { baseMs: 1, capMs: 5 },
    timeoutMs: 2_000,
    ...extra,
  });
}

describe('HttpTransport', () => {
  it('sends JSON with the auth header and a request id, and parses the answer', async () => {
    replies('/api/v1/things', { status: 200, body: { ok: true }, headers: { 'x-request-id': 'abc' } });
    const t = transport();
    const res = await t.send({ method: 'POST', path: '/things', body: { a: 1 } });
    expect(res.body).toEqual({ ok: true });
    expect(res.requestId).toBe('abc');
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(seen[0]?.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(t.stats).toEqual({ requests: 1, writes: 1, retries: 0, failures: 0 });
  });

  it('retries a GET on 5xx and 429 until it succeeds', async () => {
    replies('/api/v1/list', { status: 503 }, { status: 429 }, { status: 502 }, { status: 200, body: [1] });
    const t = transport();
    const res = await t.send({ method: 'GET', path: '/list' });
    expect(res.body).toEqual([1]);
    expect(res.attempts).toBe(4);
    expect(t.stats).toMatchObject({ requests: 4, writes: 0, retries: 3 });
  });

  it('gives up on a GET after the configured retries with the last error', async () => {
    replies('/api/v1/list', { status: 500 }, { status: 500 }, { status: 500 });
    const t = transport({ retries: 2 });
    const err = await t.send({ method: 'GET', path: '/list' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).kind).toBe('server');
    expect((err as HttpError).attempts).toBe(3);
    expect(t.stats).toMatchObject({ requests: 3, retries: 2, failures: 1 });
  });

  it.each(['POST', 'PATCH'] as const)('never retries %s, even on 503', async (method) => {
    replies('/api/v1/x', { status: 503 }, { status: 200, body: {} });
    const t = transport();
    const err = await t.send({ method, path: '/x', body: { comment: 'once' } }).catch((e: unknown) => e);
    expect((err as HttpError).kind).toBe('server');
    expect(seen).toHaveLength(1);
    expect(t.stats).toMatchObject({ requests: 1, writes: 1, retries: 0 });
  });

  it('retries idempotent PUT and DELETE', async () => {
    replies('/api/v1/x', { status: 503 }, { status: 200, body: { ok: true } }, { status: 504 }, { status: 200, body: { ok: true } });
    const t = transport();
    await t.send({ method: 'PUT', path: '/x', body: {} });
    await t.send({ method: 'DELETE', path: '/x' });
    expect(t.stats).toMatchObject({ requests: 4, writes: 4, retries: 2 });
  });

  it('does not retry client errors such as 404 or 422', async () => {
    replies('/api/v1/x', { status: 422, body: { detail: [] } }, { status: 200, body: {} });
    const t = transport();
    const err = (await t.send({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as HttpError;
    expect(err.kind).toBe('validation');
    expect(seen).toHaveLength(1);
  });

  it('waits for Retry-After (seconds) before retrying', async () => {
    replies('/api/v1/x', { status: 429, headers: { 'retry-after': '1' } }, { status: 200, body: {} });
    const t = transport();
    const started = Date.now();
    await t.send({ method: 'GET', path: '/x' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(seen).toHaveLength(2);
  });

  it('does not wait for a Retry-After beyond its ceiling: the error carries it instead', async () => {
    replies('/api/v1/x', { status: 503, headers: { 'retry-after': '3600' } }, { status: 200, body: {} });
    const t = transport();
    const err = (await t.send({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as HttpError;
    expect(err.kind).toBe('server');
    expect(err.retryAfterMs).toBe(3_600_000);
    expect(seen).toHaveLength(1);
  });

  it('times out a slow answer and retries a GET', async () => {
    replies('/api/v1/slow', { status: 200, body: {}, delayMs: 1_000 }, { status: 200, body: { fast: true } });
    const t = transport({ timeoutMs: 100 });
    const started = Date.now();
    const res = await t.send({ method: 'GET', path: '/slow' });
    expect(res.body).toEqual({ fast: true });
    expect(Date.now() - started).toBeLessThan(900);
    expect(t.stats.retries).toBe(1);
  });

  it('reports a timeout of a write as kind timeout without retrying', async () => {
    replies('/api/v1/slow', { status: 200, body: {}, delayMs: 1_000 });
    const t = transport({ timeoutMs: 50 });
    const err = (await t.send({ method: 'POST', path: '/slow', body: {} }).catch((e: unknown) => e)) as HttpError;
    expect(err.kind).toBe('timeout');
    expect(err.status).toBeNull();
    expect(t.stats.requests).toBe(1);
  });

  it('maps a connection failure to kind network and retries it for GET', async () => {
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/api/v1/x' }).replyWithError(Object.assign(new Error('socket hang up'), { code: 'UND_ERR_SOCKET' }));
    replies('/api/v1/x', { status: 200, body: { fine: true } });
    const t = transport();
    const res = await t.send({ method: 'GET', path: '/x' });
    expect(res.body).toEqual({ fine: true });
    expect(t.stats.retries).toBe(1);
  });

  it('rejects a 2xx whose body is not JSON as invalid_response', async () => {
    replies('/api/v1/x', { status: 200, body: '<html>proxy</html>' });
    const err = (await transport().send({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as HttpError;
    expect(err.kind).toBe('invalid_response');
    expect(err.body).toBe('<html>proxy</html>');
  });

  it("stops at once when the caller's signal aborts, without a retry", async () => {
    replies('/api/v1/x', { status: 200, body: {}, delayMs: 1_000 }, { status: 200, body: {} });
    const t = transport();
    const signal = AbortSignal.timeout(50);
    const err = await t.send({ method: 'GET', path: '/x', signal }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(HttpError);
    expect(t.stats.requests).toBe(1);
  });

  it('keeps the token out of error messages and fields', async () => {
    replies('/api/v1/x', { status: 401, body: { detail: 'Unauthorized' } });
    const err = (await transport().send({ method: 'GET', path: '/x', query: { a: 1 } }).catch((e: unknown) => e)) as HttpError;
    expect(err.kind).toBe('unauthorized');
    expect(err.path).toBe('/x?a=1');
    expect(JSON.stringify({ ...err, message: err.message, stack: err.stack })).not.toContain(SECRET);
  });
});

describe('buildQuery', () => {
  it('drops undefined and null values and encodes the rest', () => {
    expect(buildQuery({ status: 'inbox,review', limit: 200, offset: 0, since: undefined, x: null })).toBe(
      '?status=inbox%2Creview&limit=200&offset=0',
    );
    expect(buildQuery({})).toBe('');
  });
});
