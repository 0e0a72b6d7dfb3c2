import { startSandbox, type SandboxHandle, type SandboxInfo } from '../index.js';

/** A thin fetch wrapper the sandbox tests use to talk to it like any HTTP client would. */

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export function mcClient(info: SandboxInfo, token = info.mcAuthToken) {
  async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply<T>> {
    const res = await fetch(`${info.mcApiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T), headers: res.headers };
  }
  const board = `/boards/${info.boardId}`;
  return {
    call,
    board,
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body: unknown) => call<T>('POST', path, body),
    patch: <T = any>(path: string, body: unknown) => call<T>('PATCH', path, body),
    del: <T = any>(path: string) => call<T>('DELETE', path),
    createTask: (body: Record<string, unknown>) => call('POST', `${board}/tasks`, body),
    patchTask: (id: string, body: unknown) => call('PATCH', `${board}/tasks/${id}`, body),
    /** every task, following pages like a careful client */
    async allTasks(query = ''): Promise<any[]> {
      const out: any[] = [];
      for (let offset = 0; ; offset += 200) {
        const page = await call('GET', `${board}/tasks?limit=200&offset=${offset}${query}`);
        if (page.status !== 200) throw new Error(`list failed: ${page.status}`);
        out.push(...page.body.items);
        if (page.body.items.length < 200) return out;
      }
    },
  };
}

/** A sandbox of its own for one test (a board whose rules or agents the test changes), always closed. */
export async function withSandbox<T>(body: (sandbox: SandboxHandle, mc: ReturnType<typeof mcClient>) => Promise<T>): Promise<T> {
  const sandbox = await startSandbox({ seed: 'empty' });
  try {
    return await body(sandbox, mcClient(sandbox.info));
  } finally {
    await sandbox.close();
  }
}

export async function control<T = any>(info: SandboxInfo, method: string, path: string, body?: unknown): Promise<Reply<T>> {
  const res = await fetch(`${info.controlUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T), headers: res.headers };
}

/**
 * Reads SSE frames from a stream until `until` is satisfied or `timeoutMs` passes, then aborts.
 * Bounded by construction, so a test can never hang on it.
 */
export async function readSse(
  url: string,
  token: string,
  until: (events: Array<{ event: string; data: any }>) => boolean,
  timeoutMs = 8000,
  onOpen?: () => Promise<void> | void,
): Promise<Array<{ event: string; data: any }>> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: Array<{ event: string; data: any }> = [];
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
    if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
    await onOpen?.();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    while (!until(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replace(/\r\n/g, '\n');
      let idx: number;
      while ((idx = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, idx);
        buffer = buffer.slice(idx + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return events;
}
