import type { Logger } from 'pino';
import {
  actionSchema,
  CONDITIONS_FIELD,
  F,
  readStatus,
  refusedKey,
  ruleOfRefusal,
  type Action,
  type ActionType,
  type ControllerStatus,
  type DiscordPostAction,
  type LedgerEntry,
  type Task,
  type TaskChange,
  type TaskStatus,
} from '../model/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import type { EffectContext, EffectHandler, EffectOutcome } from './effects/types.js';
import type { GlobalStateFile } from './global-state.js';
import { mergeChanges, type FieldDiff, type MergedWrite, type MergeOptions } from './merge.js';
import { isMissionControlError } from '../clients/mission-control/errors.js';
import type { BoardStore } from './store.js';

export interface PlannedEntry {
  key: string;
  reconciler: string;
  action: ActionType;
  reason: string;
  idempotencyKey: string;
  /** the task's title, for people (tables, log lines); absent on global keys */
  title?: string;
  /** one readable line: what would change or be sent */
  summary: string;
  diff?: FieldDiff[];
}

export interface AppliedEntry extends PlannedEntry {
  outcome: EffectOutcome['outcome'] | 'deferred';
  detail?: string;
  /** the board refused the status this change asked for (a done gate's 409): the rule, in GATE_RULES words */
  refused?: string;
}

export interface ApplyOptions {
  /**
   * The caller plans this key again once the board refused a status: write only the refusal (and what
   * Discord posts already made true) so the planners' comments describe the move the task really makes.
   */
  replanOnRefusal?: boolean;
}

interface WriteResult {
  /** set when nothing needed writing */
  detail?: string;
  refused?: { status: TaskStatus; rule: string };
}

export type Handlers = { [T in ActionType]?: EffectHandler<Extract<Action, { type: T }>> };

export class ExecutionError extends Error {
  constructor(readonly entries: AppliedEntry[]) {
    const failed = entries.filter((e) => e.outcome === 'failed');
    super(`${failed.length} action(s) failed: ${failed.map((e) => `${e.action} (${e.detail ?? 'error'})`).join('; ')}`);
    this.name = 'ExecutionError';
  }
}

export interface TaskContext {
  task: Task;
  boundFields: ReadonlySet<string>;
}

/** A comment carries a reference to the action's idempotency key, looked for before writing it again. */
export const refOf = (idempotencyKey: string): string => `ref:${idempotencyKey.slice(0, 12)}`;
const withRef = (comment: string, idempotencyKey: string): string => `${comment}\n(${refOf(idempotencyKey)})`;

const mergeOptions = (ctx: TaskContext): MergeOptions => ({
  conditionsBound: ctx.boundFields.has(CONDITIONS_FIELD),
  statusTextBound: ctx.boundFields.has(F.statusText),
});

const bodyOf = (m: MergedWrite) => ({
  ...(m.status ? { status: m.status } : {}),
  ...(Object.keys(m.fields).length > 0 ? { customFieldValues: m.fields } : {}),
  ...(m.comment ? { comment: m.comment } : {}),
});

const firstLine = (s: string): string => (s.split('\n').find((l) => l.trim()) ?? '').slice(0, 100);
const describeDiff = (diff: FieldDiff[]): string =>
  diff.map((d) => `${d.field}: ${JSON.stringify(d.from)} → ${JSON.stringify(d.to)}`).join('; ');

/**
 * The one place actions become calls. Per key: Discord posts first (intent in the ledger before the
 * call, result after it), then every task change of the key merged into a single PATCH that carries
 * the comment too, then global effects. Every client it calls is behind the effects door: while the door is
 * closed (`plan`, dry-run, standby) the controller only calls `describe`, and a call that got here anyway is
 * refused by the client before anything leaves the process.
 */
export class Executor {
  private readonly warnedFields = new Set<string>();

  constructor(
    private readonly deps: {
      mc: MissionControlApi;
      store: BoardStore;
      handlers: Handlers;
      globalState: GlobalStateFile;
      logger: Logger;
      /** aborted at the shutdown drain deadline; handed to every effect handler */
      signal?: AbortSignal;
      onAction?(action: ActionType, outcome: string): void;
    },
  ) {}

  describe(actions: readonly Action[], ctx: TaskContext | null, now: number): PlannedEntry[] {
    const status = ctx ? readStatus(ctx.task.fields) : null;
    return actions.map((a) => {
      const entry: PlannedEntry = {
        key: a.key,
        reconciler: a.reconciler,
        action: a.type,
        reason: a.reason,
        idempotencyKey: a.idempotencyKey,
        ...(ctx ? { title: ctx.task.title } : {}),
        summary: '',
      };
      if (a.type === 'task.patch' && ctx && status) {
        const merged = mergeChanges(ctx.task, status, [{ ...a.change, rider: undefined }], now, { ...mergeOptions(ctx), conditionsBound: true });
        entry.diff = merged?.diff ?? [];
        entry.summary = [describeDiff(entry.diff), a.change.comment ? `comment "${firstLine(a.change.comment)}"` : '']
          .filter(Boolean)
          .join('; ');
      } else if (a.type === 'discord.post') {
        entry.summary = `post to ${a.purpose} channel: "${firstLine(a.content)}"`;
        if (a.after && ctx && status) entry.diff = mergeChanges(ctx.task, status, [a.after], now, { ...mergeOptions(ctx), conditionsBound: true })?.diff;
      } else if (a.type === 'state.write') entry.summary = `state: ${JSON.stringify(a.patch).slice(0, 100)}`;
      else if (a.type === 'k8s.scale')
        entry.summary = `${a.restore ? 'restore' : 'scale'} ${a.kind} ${a.namespace}/${a.name} to ${a.replicas}`;
      else if (a.type === 'process.kill') entry.summary = `kill ${a.targets.map((t) => `${t.pid} (${t.command.slice(0, 40)})`).join(', ')}`;
      return entry;
    });
  }

  async apply(actions: readonly Action[], ctx: TaskContext | null, now: number, opts: ApplyOptions = {}): Promise<AppliedEntry[]> {
    const planned = this.describe(actions, ctx, now);
    const results = new Map<Action, AppliedEntry>();
    const done = (a: Action, outcome: AppliedEntry['outcome'], detail?: string) => {
      const p = planned[actions.indexOf(a)]!;
      results.set(a, { ...p, outcome, ...(detail ? { detail } : {}) });
      this.deps.onAction?.(a.type, outcome);
    };
    for (const a of actions) {
      const check = actionSchema.safeParse(a);
      if (!check.success) done(a, 'failed', `invalid action: ${check.error.issues[0]?.message ?? 'schema'}`);
    }
    const valid = actions.filter((a) => !results.has(a));
    const changes: { change: TaskChange; action: Action }[] = [];

    for (const post of valid.filter((a): a is DiscordPostAction => a.type === 'discord.post')) {
      try {
        const r = await this.post(post, ctx, now);
        done(post, r.outcome, r.detail);
        // Only a post that went out (or was found already out) is marked; re-marking a done entry would
        // rewrite it every pass, and a post that had nowhere to go must stay pending for a later configuration.
        if (r.outcome !== 'failed' && post.task && r.mark) {
          const ledger = { [post.idempotencyKey]: { s: 'done', at: now, ...(r.externalId ? { ext: r.externalId } : {}) } as LedgerEntry };
          changes.push({ action: post, change: { ...(post.after ?? {}), ledger: { ...(post.after?.ledger ?? {}), ...ledger } } });
        }
      } catch (err) {
        done(post, 'failed', (err as Error).message);
      }
    }

    for (const a of valid) if (a.type === 'task.patch') changes.push({ action: a, change: a.change });
    if (changes.length > 0) {
      if (!ctx) {
        for (const { action } of changes) if (!results.has(action)) done(action, 'failed', 'task change outside a task key');
      } else {
        try {
          const r = await this.writeTask(ctx, changes, now, opts);
          for (const { action } of changes) {
            if (results.has(action)) continue;
            if (r.refused) {
              done(action, 'deferred', `board refused ${r.refused.status} (${r.refused.rule}); planned again`);
              results.get(action)!.refused = r.refused.rule;
            } else done(action, r.detail ? 'skipped' : 'applied', r.detail);
          }
        } catch (err) {
          for (const { action } of changes) if (!results.has(action) || action.type === 'task.patch') done(action, 'failed', (err as Error).message);
        }
      }
    }

    for (const a of valid) {
      if (a.type === 'task.patch' || a.type === 'discord.post') continue;
      try {
        if (a.type === 'state.write') {
          this.deps.globalState.merge(a.patch);
          done(a, 'applied');
          continue;
        }
        const handler = this.deps.handlers[a.type] as EffectHandler | undefined;
        if (!handler) {
          done(a, 'failed', `no handler configured for ${a.type}`);
          continue;
        }
        const r = await handler(a, this.effectContext());
        done(a, r.outcome, r.detail);
      } catch (err) {
        done(a, 'failed', (err as Error).message);
      }
    }

    const entries = actions.map((a) => results.get(a)!);
    if (entries.some((e) => e.outcome === 'failed')) throw new ExecutionError(entries);
    return entries;
  }

  private effectContext(): EffectContext {
    return { logger: this.deps.logger, ...(this.deps.signal ? { signal: this.deps.signal } : {}) };
  }

  private async post(post: DiscordPostAction, ctx: TaskContext | null, now: number): Promise<EffectOutcome & { mark: boolean }> {
    const handler = this.deps.handlers['discord.post'];
    // Without Discord a notice has nowhere to go: that is the configuration, not a failure to retry.
    if (!handler) return { outcome: 'skipped', detail: 'Discord is not configured (DISCORD_BOT_TOKEN and a channel)', mark: false };
    const ledgerOwner = post.task && ctx && ctx.task.id === post.task.taskId ? ctx : null;
    const prior = ledgerOwner
      ? readStatus(ledgerOwner.task.fields).ledger[post.idempotencyKey]
      : this.deps.globalState.get().ledger[post.idempotencyKey];
    if (prior?.s === 'done') return { outcome: 'skipped', detail: 'already delivered (ledger)', mark: false };
    if (prior?.s !== 'pending') {
      const intent: LedgerEntry = { s: 'pending', at: now };
      if (ledgerOwner) await this.writeTask(ledgerOwner, [{ action: post, change: { ledger: { [post.idempotencyKey]: intent } } }], now, {});
      else this.deps.globalState.setLedger(post.idempotencyKey, intent);
    }
    const outcome = await handler(post, { ...this.effectContext(), ...(prior ? { priorIntent: prior } : {}) });
    if (!ledgerOwner && outcome.outcome !== 'failed') {
      this.deps.globalState.setLedger(post.idempotencyKey, { s: 'done', at: now, ...(outcome.externalId ? { ext: outcome.externalId } : {}) });
    }
    return { ...outcome, mark: true };
  }

  /** Merges and writes; returns a detail when nothing needed writing. Keeps ctx.task current. */
  private async writeTask(ctx: TaskContext, changes: { change: TaskChange; action: Action }[], now: number, opts: ApplyOptions): Promise<WriteResult> {
    const task = ctx.task;
    let prepared = changes.map(({ change, action }) => ({
      action,
      change: { ...change, fields: this.boundOnly(task, change.fields, ctx.boundFields), ...(change.comment ? { comment: withRef(change.comment, action.idempotencyKey) } : {}) },
    }));
    if (prepared.some((p) => p.change.comment)) prepared = await this.dropWrittenComments(task, prepared);
    const status: ControllerStatus = readStatus(task.fields);
    const mergeOpts = mergeOptions(ctx);
    const merged = mergeChanges(task, status, prepared.map((p) => p.change), now, mergeOpts);
    if (!merged) return { detail: 'no change' };
    let updated: Task;
    try {
      updated = await this.deps.mc.updateTask(task.boardId, task.id, bodyOf(merged));
    } catch (err) {
      // A board rule (done gate, pending approval) refused the status: remember the refusal and its rule, so
      // planners choose another status instead of retrying this one forever.
      if (!merged.status || (err as { status?: number }).status !== 409) throw err;
      const rule = ruleOfRefusal(isMissionControlError(err) ? err.detailMessage : (err as Error).message);
      this.deps.logger.warn({ taskId: task.id, status: merged.status, rule }, `board refused status ${merged.status}: ${(err as Error).message}`);
      const refusal: TaskChange = { ledger: { [refusedKey(merged.status)]: { s: 'failed', at: Date.now(), ext: rule } } };
      // Planned again: keep only what Discord already made true; the planners' own changes come back
      // with comments that name the real transition. Otherwise: the rest of the write without the status.
      const kept = opts.replanOnRefusal ? prepared.filter((p) => p.action.type === 'discord.post') : prepared;
      const retry = mergeChanges(task, status, [...kept.map((p) => ({ ...p.change, status: undefined })), refusal], now, mergeOpts);
      if (retry) updated = await this.deps.mc.updateTask(task.boardId, task.id, bodyOf(retry));
      else updated = task;
      this.deps.store.upsertTask(updated);
      ctx.task = updated;
      if (opts.replanOnRefusal) return { refused: { status: merged.status, rule } };
      return retry ? {} : { detail: `status ${merged.status} refused by the board` };
    }
    this.deps.store.upsertTask(updated);
    ctx.task = updated;
    return {};
  }

  private boundOnly(task: Task, fields: Record<string, unknown> | undefined, bound: ReadonlySet<string>) {
    if (!fields) return undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (bound.has(k)) out[k] = v;
      else if (!this.warnedFields.has(`${task.boardId}/${k}`)) {
        this.warnedFields.add(`${task.boardId}/${k}`);
        this.deps.logger.warn({ boardId: task.boardId, field: k }, `custom field ${k} is not bound to the board; run \`mc-controller bootstrap\``);
      }
    }
    return out;
  }

  /** Before a comment goes out, look for its reference among the task's comments (a write that landed but whose answer was lost). */
  private async dropWrittenComments<T extends { change: TaskChange }>(task: Task, prepared: T[]): Promise<T[]> {
    const listed = await this.deps.mc.listComments(task.boardId, task.id);
    const text = listed.items.map((c) => c.message).join('\n');
    return prepared.map((p) => {
      const ref = p.change.comment?.match(/\((ref:[0-9a-f]+)\)$/)?.[1];
      return ref && text.includes(ref) ? { ...p, change: { ...p.change, comment: undefined } } : p;
    });
  }
}
