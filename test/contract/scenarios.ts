/**
 * The gateway contract: ONE set of assertion bodies, run against the real openclaw gateway and against our
 * simulator. A target only knows how to put the gateway into a state (real: chat.send + scripted mock
 * model; simulator: control API); every check reads through OUR GatewayClient and polls (bounded) until
 * the state shows, because real runs settle asynchronously.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayClient, GatewayError, gatewaySupports } from '../../src/clients/gateway/index.js';
import type { Session } from '../../src/model/index.js';
import { eventually } from '../support/eventually.js';

export interface ContractTarget {
  url: string;
  token: string;
  /** a run that finishes with an assistant reply */
  startFinishedRun(key: string, prompt: string): Promise<void>;
  /** a run that fails on the provider */
  startFailedRun(key: string): Promise<void>;
  /** a parent run that spawns one sub-agent with this label */
  startSpawn(parentKey: string, label: string): Promise<void>;
  /** a run that ends up waiting on an exec approval; returns the command */
  startApprovalWait(key: string): Promise<string>;
  /** a parent run that spawns one sub-agent with this label and task (the mock answers the task's MOCK_* word) */
  spawnTask?(parentKey: string, label: string, task: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ContractOptions {
  /** upper bound for a run to reach its state */
  settleMs: number;
  /** upper bound for sessions.usage to report fresh totals */
  usageMs: number;
}

const SUBAGENT_KEY = /^agent:main:subagent:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;


/** More scenarios that reuse this describe's gateway (one real gateway start); they get the started target. */
export type ContractExtension = (target: () => ContractTarget, opts: ContractOptions) => void;

export function defineGatewayContract(
  name: string,
  makeTarget: () => Promise<ContractTarget>,
  opts: ContractOptions,
  extensions: readonly ContractExtension[] = [],
): void {
  describe(`gateway contract: ${name}`, () => {
    const run = randomUUID().slice(0, 8);
    const keys = {
      done: `agent:main:mc-contract-done-${run}`,
      failed: `agent:main:mc-contract-failed-${run}`,
      parent: `agent:main:mc-contract-parent-${run}`,
      approval: `agent:main:mc-contract-approval-${run}`,
    };
    const childLabel = `contract-child-${run}`;
    const prompt = `contract hello ${run}`;
    let target: ContractTarget;
    let client: GatewayClient;
    let command = '';
    const changed = new Set<string>();

    const findSession = async (predicate: (s: Session) => boolean): Promise<Session | undefined> => {
      const { sessions } = await client.listSessions();
      return sessions.find(predicate);
    };

    beforeAll(async () => {
      target = await makeTarget();
      client = new GatewayClient({
        url: target.url,
        token: target.token,
        clientVersion: '0.1.0-contract',
        events: { onSessionChanged: (key) => changed.add(key) },
      });
      await client.connect();
      // all scenarios run concurrently; each test below waits for its own state
      await target.startFinishedRun(keys.done, prompt);
      await target.startFailedRun(keys.failed);
      await target.startSpawn(keys.parent, childLabel);
      command = await target.startApprovalWait(keys.approval);
    }, 240_000);

    afterAll(async () => {
      await client?.close();
      await target?.stop();
    }, 60_000);

    it('handshakes read-only: protocol 4, a bootId, the requested scopes, usage callable but not advertised', () => {
      const hello = client.hello!;
      expect(hello.protocol).toBe(4);
      expect(typeof hello.bootId).toBe('string');
      expect(hello.uptimeMs).toBeGreaterThanOrEqual(0);
      expect([...hello.scopes].sort()).toEqual(['operator.approvals', 'operator.read']);
      expect(hello.methods.has('sessions.list')).toBe(true);
      expect(hello.methods.has('sessions.usage')).toBe(false);
      expect(gatewaySupports(hello, 'sessions.usage')).toBe(true);
    });

    it('rejects a wrong token with AUTH_TOKEN_MISMATCH and never echoes it', async () => {
      const wrong = `wrong-${randomUUID()}`;
      const bad = new GatewayClient({ url: target.url, token: wrong, clientVersion: '0.1.0-contract', reconnect: false });
      const error = await bad.connect().then(
        () => null,
        (e: unknown) => e,
      );
      await bad.close();
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).detailCode).toBe('AUTH_TOKEN_MISMATCH');
      expect((error as GatewayError).message).not.toContain(wrong);
    });

    it('reads a finished run: status done, ended, with the transcript', async () => {
      const session = await eventually('the finished run', opts.settleMs, () => findSession((s) => s.key === keys.done && s.status === 'done'));
      expect(session.hasActiveRun).toBe(false);
      expect(typeof session.sessionId).toBe('string');
      expect(session.endedAt).toBeGreaterThan(0);
      expect(session.updatedAt).toBeGreaterThan(0);
      const messages = await client.chatHistory(keys.done, 20);
      const user = messages.find((m) => m.role === 'user');
      const assistant = messages.find((m) => m.role === 'assistant');
      expect(user?.text).toContain(prompt);
      expect(assistant?.text.length).toBeGreaterThan(0);
      for (const m of messages) expect(m.timestamp).toBeGreaterThan(0);
      expect(changed.has(keys.done)).toBe(true);
    });

    it('reads a failed run: status failed with lastRunError', async () => {
      const session = await eventually('the failed run', opts.settleMs, () => findSession((s) => s.key === keys.failed && s.status === 'failed'));
      expect(session.hasActiveRun).toBe(false);
      expect(session.lastRunError?.length).toBeGreaterThan(0);
    });

    it('reads a spawned sub-agent: agent:main:subagent:<uuid> with spawnedBy the parent', async () => {
      const child = await eventually('the spawned child', opts.settleMs, () => findSession((s) => s.spawnedBy === keys.parent));
      expect(child.key).toMatch(SUBAGENT_KEY);
      expect(child.parentSessionKey).toBe(keys.parent);
      expect(child.label).toBe(childLabel);
      expect(changed.has(child.key)).toBe(true);
    });

    it('sees a run waiting on an exec approval: still running, approval visible to operator.admin only', async () => {
      const admin = new GatewayClient({
        url: target.url,
        token: target.token,
        clientVersion: '0.1.0-contract',
        scopes: ['operator.read', 'operator.admin'],
        reconnect: false,
      });
      try {
        await admin.connect();
        const approval = await eventually('the exec approval', opts.settleMs, async () =>
          (await admin.listExecApprovals()).find((a) => a.sessionKey === keys.approval),
        );
        expect(approval.command).toContain(command);
        expect(typeof approval.id).toBe('string');
        expect(approval.expiresAtMs).toBeGreaterThan(approval.createdAtMs ?? 0);
        const session = await findSession((s) => s.key === keys.approval);
        expect(session?.status).toBe('running');
        expect(session?.hasActiveRun).toBe(true);
        if (approval.runId) expect(typeof approval.runId).toBe('string');
        // without a paired device, operator.approvals alone does not make agent-run approvals visible
        expect((await client.listExecApprovals()).some((a) => a.sessionKey === keys.approval)).toBe(false);
      } finally {
        await admin.close();
      }
    });

    it('reads cumulative usage of a finished run once the usage cache is fresh', async () => {
      await eventually('the finished run', opts.settleMs, () => findSession((s) => s.key === keys.done && s.status === 'done'));
      const first = await client.sessionUsage(keys.done);
      expect(first).not.toBeNull();
      const usage = await eventually('fresh usage', opts.usageMs, async () => {
        const u = await client.sessionUsage(keys.done);
        return u?.fresh ? u : undefined;
      });
      expect(usage.inputTokens).toBeGreaterThan(0);
      expect(usage.outputTokens).toBeGreaterThan(0);
      expect(usage.totalCostUsd).toBeGreaterThan(0);
    });

    it('answers chat.history for an unknown key with no messages, not an error', async () => {
      expect(await client.chatHistory(`agent:main:never-${run}`, 5)).toEqual([]);
    });

    it('answers a key that is no session reference as INVALID_REQUEST per call, never as a broken connection', async () => {
      const refusal = async (read: () => Promise<unknown>) =>
        read().then(
          (ok) => ({ ok }),
          (err: unknown) => ({ code: (err as GatewayError).code, message: (err as GatewayError).message }),
        );
      // the kit's QA keys: chat.history answers an empty transcript, sessions.usage cannot resolve the reference
      const qa = `__qa_missing_1_${Date.now()}`;
      expect(await refusal(() => client.chatHistory(qa, 5))).toEqual({ ok: [] });
      expect(await refusal(() => client.sessionUsage(qa))).toEqual({
        code: 'INVALID_REQUEST',
        message: `sessions.usage: INVALID_REQUEST: Invalid session reference: ${qa}`,
      });
      // an unknown agent key whose rest is no session id (a gone sub-agent) cannot be resolved either
      const goneChild = `agent:main:subagent:${randomUUID()}`;
      expect(await refusal(() => client.sessionUsage(goneChild))).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining(`Invalid session reference: ${goneChild}`) });
      // an agent-shaped key without a rest is malformed for both methods
      for (const read of [() => client.chatHistory('agent:main', 5), () => client.sessionUsage('agent:main')])
        expect(await refusal(read)).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('malformed session key "agent:main"') });
      // a plain unknown key is still fine for both
      expect(await refusal(() => client.sessionUsage(`qa-plain-${run}`))).toMatchObject({ ok: { fresh: false, totalCostUsd: null } });
      // and the connection stays usable
      expect((await client.listSessions()).rejected).toEqual([]);
    });

    it('pages sessions.list until hasMore is false', async () => {
      const { sessions, rejected, requests } = await client.listSessions();
      expect(rejected).toEqual([]);
      expect(requests).toBeGreaterThanOrEqual(1);
      expect(new Set(sessions.map((s) => s.key)).size).toBe(sessions.length);
    });

    for (const extend of extensions) extend(() => target, opts);
  });
}
