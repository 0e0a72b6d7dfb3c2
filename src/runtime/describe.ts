import { CONDITIONS_FIELD, F, readStatus, type Action, type ActionType, type Task } from '../model/index.js';
import { mergeChanges, type FieldDiff, type MergeOptions } from './merge.js';

/** One action as a person reads it: in a plan, a dry-run log line, or (with its outcome) after it was applied. */
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

export interface TaskContext {
  task: Task;
  boundFields: ReadonlySet<string>;
}

export const mergeOptions = (ctx: TaskContext): MergeOptions => ({
  conditionsBound: ctx.boundFields.has(CONDITIONS_FIELD),
  statusTextBound: ctx.boundFields.has(F.statusText),
});

const firstLine = (s: string): string => (s.split('\n').find((l) => l.trim()) ?? '').slice(0, 100);
const describeDiff = (diff: FieldDiff[]): string =>
  diff.map((d) => `${d.field}: ${JSON.stringify(d.from)} → ${JSON.stringify(d.to)}`).join('; ');

/** What each action would do, without doing it: the dry-run and `plan` output, and the base of every applied entry. */
export function describeActions(actions: readonly Action[], ctx: TaskContext | null, now: number): PlannedEntry[] {
  const status = ctx ? readStatus(ctx.task.fields) : null;
  // a plan shows the whole change, the ledger too, even where mc_conditions is not bound yet
  const diffOf = (change: Parameters<typeof mergeChanges>[2][number]) =>
    // a rider is described as what it adds to the write that carries it
    ctx && status ? mergeChanges(ctx.task, status, [{ ...change, rider: undefined }], now, { ...mergeOptions(ctx), conditionsBound: true })?.diff : undefined;
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
    switch (a.type) {
      case 'task.patch':
        if (!ctx || !status) break;
        entry.diff = diffOf(a.change) ?? [];
        entry.summary = [describeDiff(entry.diff), a.change.comment ? `comment "${firstLine(a.change.comment)}"` : ''].filter(Boolean).join('; ');
        break;
      case 'discord.post': {
        entry.summary = `post to ${a.purpose} channel: "${firstLine(a.content)}"`;
        const diff = a.after ? diffOf(a.after) : undefined;
        if (diff) entry.diff = diff;
        break;
      }
      case 'state.write':
        entry.summary = `state: ${JSON.stringify(a.patch).slice(0, 100)}`;
        break;
      case 'k8s.scale':
        entry.summary = `${a.restore ? 'restore' : 'scale'} ${a.kind} ${a.namespace}/${a.name} to ${a.replicas}`;
        break;
      case 'process.kill':
        entry.summary = `kill ${a.targets.map((t) => `${t.pid} (${t.command.slice(0, 40)})`).join(', ')}`;
        break;
      case 'field.create':
        entry.summary = `create ${a.input.fieldKey} (${a.input.fieldType}) bound to ${a.input.boardIds.join(', ')}`;
        break;
      case 'field.update':
        entry.summary = `update ${a.fieldKey}: ${Object.keys(a.changes).sort().join(', ')}`;
        break;
      case 'task.create': {
        const i = a.input;
        const extra = [i.status ?? 'inbox', `priority ${i.priority ?? 'medium'}`, ...(i.assignedAgentId ? [`assignee ${i.assignedAgentId}`] : [])];
        entry.summary = `create "${firstLine(i.title)}" in ${a.boardId} (${extra.join(', ')})`;
        break;
      }
    }
    return entry;
  });
}
