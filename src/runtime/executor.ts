import type { Logger } from 'pino';
import {
  actionSchema,
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
import { describeActions, mergeOptions, type PlannedEntry, type TaskContext } from './describe.js';
import { missionControlHandlers } from './effects/mission-control.js';
import type { EffectContext, EffectHandler, EffectOutcome, Handlers } from './effects/types.js';
import type { GlobalStateFile } from './global-state.js';
import { mergeChanges, type MergedWrite } from './merge.js';
import { isMissionControlError } from '../clients/mission-control/errors.js';
import type { BoardStore } from './store.js';

export type { Handlers } from './effects/types.js';
export type { PlannedEntry, TaskContext } from './describe.js';

export interface AppliedEntry extends PlannedEntry {
  outcome: EffectOutcome['outcome'] | 'deferred';
  detail?: string;
  /** the board refused the status this change asked for (a done gate's 409): the rule, in GATE_RULES words */
  refused?: string;
  /** id of what the action created or found outside (Discord message, created task, field definition) */
  externalId?: string;
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

/** Some actions failed; `cause` is the first failure's own error (a one-shot command reports it as it was). */
export class ExecutionError extends Error {
  constructor(
    readonly entries: AppliedEntry[],
    cause?: unknown,
  ) {
    const failed = entries.filter((e) => e.outcome === 'failed');
    super(`${failed.length} action(s) failed: ${failed.map((e) => `${e.action} (${e.detail ?? 'error'})`).join('; ')}`, cause === undefined ? undefined : { cause });
    this.name = 'ExecutionError';
  }
}

/** A comment carries a reference to the action's idempotency key, looked for before writing it again. */
export const refOf = (idempotencyKey: string): string => `ref:${idempotencyKey.slice(0, 12)}`;
/** The `ref:…` a comment written by withRef ends with. */
const commentRef = (comment: string | undefined): string | undefined => comment?.match(/\((ref:[0-9a-f]+)\)$/)?.[1];
const withRef = (comment: string, idempotencyKey: string): string => `${comment}\n(${refOf(idempotencyKey)})`;

const bodyOf = (m: MergedWrite) => ({
  ...(m.status ? { status: m.status } : {}),
  ...(Object.keys(m.fields).length > 0 ? { customFieldValues: m.fields } : {}),
  ...(m.comment ? { comment: m.comment } : {}),
});

/**
 * The one place actions become calls. Per key: Discord posts first (intent in the ledger before the
 * call, result after it), then every task change of the key merged into a single PATCH that carries
 * the comment too, then everything else through its handler: state writes (merged here, then mirrored by their
 * handler if one is configured), scale, kill, and the Mission Control
 * creates outside a task's PATCH (custom fields for bootstrap, tasks for `task create`). Every client it calls is
 * behind the effects door: while the door is closed (`plan`, dry-run, standby) the controller and the one-shot
 * commands only call `describe`, and a call that got here anyway is refused by the client before anything leaves
 * the process.
 */
export class Executor {
  private readonly warnedFields = new Set<string>();
  /**
   * Tasks whose last write may have landed without our knowing (no answer, or a 5xx): until one of their
   * writes succeeds, a comment is looked for among their comments before it goes out again.
   */
  private readonly uncertain = new Set<string>();

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
  ) {
    // Mission Control's creates and field definitions need nothing but the (door-wrapped) client every executor has.
    this.handlers = { ...missionControlHandlers(deps.mc, deps.store), ...deps.handlers };
  }

  private readonly handlers: Handlers;

  describe(actions: readonly Action[], ctx: TaskContext | null, now: number): PlannedEntry[] {
    return describeActions(actions, ctx, now);
  }

  async apply(actions: readonly Action[], ctx: TaskContext | null, now: number, opts: ApplyOptions = {}): Promise<AppliedEntry[]> {
    const planned = this.describe(actions, ctx, now);
    const results = new Map<Action, AppliedEntry>();
    let firstError: unknown;
    const done = (a: Action, outcome: AppliedEntry['outcome'], detail?: string, externalId?: string) => {
      const p = planned[actions.indexOf(a)]!;
      results.set(a, { ...p, outcome, ...(detail ? { detail } : {}), ...(externalId ? { externalId } : {}) });
      this.deps.onAction?.(a.type, outcome);
    };
    const failed = (a: Action, err: unknown) => {
      firstError ??= err;
      done(a, 'failed', (err as Error).message);
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
        done(post, r.outcome, r.detail, r.externalId);
        // Only a post that went out (or was found already out) is marked; re-marking a done entry would
        // rewrite it every pass, and a post that had nowhere to go must stay pending for a later configuration.
        if (r.outcome !== 'failed' && post.task && r.mark) {
          const ledger = { [post.idempotencyKey]: { s: 'done', at: now, ...(r.externalId ? { ext: r.externalId } : {}) } as LedgerEntry };
          changes.push({ action: post, change: { ...(post.after ?? {}), ledger: { ...(post.after?.ledger ?? {}), ...ledger } } });
        }
      } catch (err) {
        failed(post, err);
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
          for (const { action } of changes) if (!results.has(action) || action.type === 'task.patch') failed(action, err);
        }
      }
    }

    for (const a of valid) {
      if (a.type === 'task.patch' || a.type === 'discord.post') continue;
      try {
        if (a.type === 'state.write') {
          this.deps.globalState.merge(a.patch);
          // its handler, when one is configured, mirrors the merged state for other readers (the kit's resource file)
          const mirror = this.handlers['state.write'];
          const r = mirror ? await mirror(a, this.effectContext()) : { outcome: 'applied' as const };
          done(a, r.outcome, r.detail, r.externalId);
          continue;
        }
        const handler = this.handlers[a.type] as EffectHandler | undefined;
        if (!handler) {
          done(a, 'failed', `no handler configured for ${a.type}`);
          continue;
        }
        const r = await handler(a, this.effectContext());
        done(a, r.outcome, r.detail, r.externalId);
      } catch (err) {
        failed(a, err);
      }
    }

    const entries = actions.map((a) => results.get(a)!);
    if (entries.some((e) => e.outcome === 'failed')) throw new ExecutionError(entries, firstError);
    return entries;
  }

  private effectContext(): EffectContext {
    return { logger: this.deps.logger, ...(this.deps.signal ? { signal: this.deps.signal } : {}) };
  }

  private async post(post: DiscordPostAction, ctx: TaskContext | null, now: number): Promise<EffectOutcome & { mark: boolean }> {
    const handler = this.handlers['discord.post'];
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
    const status: ControllerStatus = readStatus(task.fields);
    const mergeOpts = mergeOptions(ctx);
    if (prepared.some((p) => p.change.comment)) prepared = await this.unwrittenComments(task, status, mergeOpts.conditionsBound, prepared, now);
    const merged = mergeChanges(task, status, prepared.map((p) => p.change), now, mergeOpts);
    if (!merged) return { detail: 'no change' };
    let updated: Task;
    try {
      updated = await this.deps.mc.updateTask(task.boardId, task.id, bodyOf(merged));
    } catch (err) {
      if (!refusedOutright(err)) this.uncertain.add(task.id);
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
    this.uncertain.delete(task.id);
    this.deps.store.upsertTask(updated);
    ctx.task = updated;
    return {};
  }

  /**
   * The comments not yet on the task, each marked in the ledger (`ref:…`) of the write that carries it: the
   * mark and the comment land in one PATCH, so the task's row says which comments it has — no comment list
   * read per write. Only where the row cannot tell (no mc_conditions to hold marks, or a write of this task
   * whose answer was lost in this process) are the task's comments read.
   */
  private async unwrittenComments<T extends { change: TaskChange }>(task: Task, status: ControllerStatus, marked: boolean, prepared: T[], now: number): Promise<T[]> {
    let kept = prepared.map((p) => {
      const ref = commentRef(p.change.comment);
      return ref && status.ledger[ref] ? { ...p, change: { ...p.change, comment: undefined } } : p;
    });
    if ((!marked || this.uncertain.has(task.id)) && kept.some((p) => p.change.comment)) kept = await this.dropWrittenComments(task, kept);
    return kept.map((p) => {
      const ref = commentRef(p.change.comment);
      return ref ? { ...p, change: { ...p.change, ledger: { ...p.change.ledger, [ref]: { s: 'done' as const, at: now } } } } : p;
    });
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
      const ref = commentRef(p.change.comment);
      return ref && text.includes(ref) ? { ...p, change: { ...p.change, comment: undefined } } : p;
    });
  }
}

/** A 4xx answer: Mission Control looked at the write and did not apply it. */
const refusedOutright = (err: unknown): boolean => isMissionControlError(err) && err.status !== null && err.status >= 400 && err.status < 500;

