/**
 * A scripted OpenAI-compatible model provider for the real gateway (openclaw-gateway.md §15.4).
 * The gateway appends internal context blocks as extra user messages and re-calls the model after each
 * tool result, so the script keys on the FIRST real user message of the turn and answers with plain text
 * once a tool result follows it (otherwise spawns would loop into the 5-children cap).
 *
 * Prompt words:
 *   MOCK_FAIL_FAST            → HTTP 400 (not retried: the run fails within seconds)
 *   MOCK_FAIL                 → HTTP 500 on every call (the gateway retries 8 × up to 30 s, then marks the run failed)
 *   MOCK_SPAWN label=<label>  → a `tool_call` of sessions_spawn with that label
 *     … task=<text>           (optional, the rest of the message) the child's task instead of a greeting
 *   MOCK_EXEC                 → an `exec` of a harmless command (approval wait under tools.exec.mode "ask")
 *   MOCK_TASK_UPDATE <json>   → a reply carrying a `TASK_UPDATE <json>` block
 *   MOCK_SLEEP                → no answer for 90 s (abort / stall scenarios)
 *   anything else             → `echo: <text>`
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MockProvider {
  baseUrl: string;
  /** model calls seen, for diagnostics */
  calls: { trigger: string; behaviour: string }[];
  close(): Promise<void>;
}

export const EXEC_COMMAND = 'rm -rf /tmp/mc-contract-does-not-exist';
const INTERNAL_CONTEXT = '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>';

interface WireMessage {
  role?: string;
  content?: unknown;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === 'object' && 'text' in part ? String((part as { text: unknown }).text) : ''))
      .join('');
  }
  return '';
}

/** index of the user message that started this turn, and whether a tool result already answered it */
function turnTrigger(messages: WireMessage[]): { text: string; toolAnswered: boolean } {
  let trigger = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'user') continue;
    if (textOf(m.content).trimStart().startsWith(INTERNAL_CONTEXT)) continue;
    trigger = i;
    break;
  }
  if (trigger < 0) return { text: '', toolAnswered: false };
  const toolAnswered = messages.slice(trigger + 1).some((m) => m.role === 'tool');
  return { text: textOf(messages[trigger]?.content), toolAnswered };
}

function sse(res: ServerResponse, chunks: unknown[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  res.write('data: [DONE]\n\n');
  res.end();
}

const usage = { choices: [], usage: { prompt_tokens: 1000, completion_tokens: 50, total_tokens: 1050 } };

function textReply(res: ServerResponse, text: string): void {
  sse(res, [
    { choices: [{ index: 0, delta: { role: 'assistant', content: text } }] },
    { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    usage,
  ]);
}

function toolReply(res: ServerResponse, name: string, args: unknown): void {
  const id = `call_${Math.random().toString(36).slice(2, 10)}`;
  sse(res, [
    {
      choices: [
        {
          index: 0,
          delta: {
            role: 'assistant',
            tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: JSON.stringify(args) } }],
          },
        },
      ],
    },
    { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    usage,
  ]);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

export async function startMockProvider(): Promise<MockProvider> {
  const calls: MockProvider['calls'] = [];
  const sleepers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url?.startsWith('/v1/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'echo', object: 'model' }] }));
        return;
      }
      if (req.method !== 'POST' || !req.url?.startsWith('/v1/chat/completions')) {
        res.writeHead(404).end();
        return;
      }
      const body = (await readJson(req)) as { messages?: WireMessage[] };
      const { text, toolAnswered } = turnTrigger(Array.isArray(body.messages) ? body.messages : []);
      const record = (behaviour: string) => calls.push({ trigger: text.slice(0, 120), behaviour });

      if (text.includes('MOCK_FAIL_FAST')) {
        record('http-400');
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'mock provider rejected the request', type: 'invalid_request_error' } }));
        return;
      }
      if (text.includes('MOCK_FAIL')) {
        record('http-500');
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'mock provider failure', type: 'server_error' } }));
        return;
      }
      if (toolAnswered) {
        record('after-tool');
        textReply(res, 'done: the tool finished');
        return;
      }
      const spawn = /MOCK_SPAWN label=(\S+)(?: task=([\s\S]+))?/.exec(text);
      if (spawn) {
        record('spawn');
        toolReply(res, 'tool_call', {
          id: 'sessions_spawn',
          args: { task: spawn[2] ?? 'Reply with a short greeting for the contract test.', label: spawn[1] },
        });
        return;
      }
      if (text.includes('MOCK_EXEC')) {
        record('exec');
        toolReply(res, 'exec', { command: EXEC_COMMAND });
        return;
      }
      const update = /MOCK_TASK_UPDATE (\{.*\})/.exec(text);
      if (update) {
        record('task-update');
        textReply(res, `Work finished.\n\nTASK_UPDATE ${update[1]}\n`);
        return;
      }
      if (text.includes('MOCK_SLEEP')) {
        record('sleep');
        const timer = setTimeout(() => {
          sleepers.delete(timer);
          if (!res.writableEnded) textReply(res, 'woke up');
        }, 90_000);
        sleepers.add(timer);
        req.on('close', () => {
          clearTimeout(timer);
          sleepers.delete(timer);
        });
        return;
      }
      record('echo');
      textReply(res, `echo: ${text.slice(-200)}`);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(error) } }));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    calls,
    close: async () => {
      for (const timer of sleepers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
