import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { HttpError, notFound, parseOr422, type ValidationItem, zodDetail } from './errors.js';
import { invalidReason, normaliseFieldType } from './field-values.js';
import { route, type Route, type RouteContext } from './router.js';
import { FIELD_TYPES, UI_VISIBILITIES, type FieldRow, type FieldType, type Store } from './store.js';
import { nowMicros } from './time.js';

/** Org-scoped custom-field definitions (mission-control-api.md §4.3, §5.2). */

const STRING_TYPES: FieldType[] = ['text', 'text_long'];
const FIELD_TYPE_ERROR = `field_type must be one of: ${FIELD_TYPES.join(', ')}`;

const fieldType = z.string().transform((raw, ctx) => {
  const type = normaliseFieldType(raw);
  if (!type) {
    ctx.addIssue({ code: 'custom', message: `Value error, ${FIELD_TYPE_ERROR}` });
    return z.NEVER;
  }
  return type;
});

const common = {
  label: z.string().trim().min(1).optional(),
  field_type: fieldType.optional(),
  ui_visibility: z.enum(UI_VISIBILITIES).optional(),
  validation_regex: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
  required: z.boolean().optional(),
  default_value: z.unknown().optional(),
};

const FieldCreate = z.object({
  ...common,
  field_key: z.string().trim().min(1),
  board_ids: z.array(z.string().uuid()).min(1, 'List should have at least 1 item after validation, not 0'),
});

const FieldUpdate = z
  .strictObject({ ...common, board_ids: z.array(z.string().uuid()).min(1).optional() })
  .refine((v) => Object.keys(v).length > 0, 'Value error, At least one field is required');

function valueError(msg: string, loc: string, input: unknown): HttpError {
  const item: ValidationItem = { type: 'value_error', loc: ['body', loc], msg: `Value error, ${msg}`, input, ctx: { error: msg } };
  return new HttpError(422, [item]);
}

/**
 * Checks regex/default against the (possibly new) type, as upstream's model validators do. On create
 * a bad default is a pydantic item; on update upstream re-validates in the route and answers the bare
 * reason (recorded: PATCH `field_type: integer` over default "medium" → 422 "must be an integer").
 */
function checkDefinition(type: FieldType, regex: string | null, defaultValue: unknown, floatDefault: boolean, on: 'create' | 'update'): void {
  if (regex) {
    if (!STRING_TYPES.includes(type)) throw valueError('validation_regex is only supported for string field types', 'validation_regex', regex);
    try {
      new RegExp(regex);
    } catch {
      throw valueError('validation_regex is not a valid regular expression', 'validation_regex', regex);
    }
  }
  const reason = invalidReason(type, defaultValue ?? null, { floatLiteral: floatDefault, regex });
  if (reason && on === 'update') throw new HttpError(422, reason);
  if (reason) throw valueError(`default_value: ${reason}`, 'default_value', defaultValue);
}

function checkBoards(store: Store, ids: string[]): string[] {
  const invalid = ids.filter((id) => !store.boards.has(id));
  if (invalid.length > 0) {
    throw new HttpError(422, { message: 'Some board_ids are invalid for this organization.', invalid_board_ids: invalid });
  }
  return [...new Set(ids)];
}

function list(ctx: RouteContext): { body: unknown } {
  const rows = [...ctx.store.fields.values()].sort((a, b) => {
    const la = a.label.toLowerCase();
    const lb = b.label.toLowerCase();
    return la < lb ? -1 : la > lb ? 1 : 0;
  });
  return { body: rows.map((f) => ctx.store.fieldRead(f)) };
}

async function create(ctx: RouteContext): Promise<{ body: unknown }> {
  const { store } = ctx;
  const { value, floatPaths } = await ctx.body();
  const input = parseOr422(FieldCreate, value);
  const type = input.field_type ?? 'text';
  checkDefinition(type, input.validation_regex ?? null, input.default_value, floatPaths.has('["default_value"]'), 'create');
  // Upstream's 409 check exists, but the recorded backend answers a duplicate key (sequential or
  // concurrent) with the unique-constraint error: a bare 500.
  if ([...store.fields.values()].some((f) => f.field_key === input.field_key)) {
    throw new HttpError(500, 'Internal Server Error');
  }
  const boardIds = checkBoards(store, input.board_ids);
  const now = nowMicros();
  const row: FieldRow = {
    id: randomUUID(),
    organization_id: store.organization.id,
    field_key: input.field_key,
    label: input.label ?? input.field_key,
    field_type: type,
    ui_visibility: input.ui_visibility ?? 'always',
    validation_regex: input.validation_regex ?? null,
    description: input.description ?? null,
    required: input.required ?? false,
    default_value: input.default_value ?? null,
    board_ids: boardIds,
    created_at: now,
    updated_at: now,
  };
  store.fields.set(row.id, row);
  return { body: store.fieldRead(row) };
}

function fieldOr404(store: Store, id: string): FieldRow {
  const row = store.fields.get(id);
  if (!row) throw notFound();
  return row;
}

async function update(ctx: RouteContext): Promise<{ body: unknown }> {
  const { store } = ctx;
  const row = fieldOr404(store, ctx.params.field_definition_id as string);
  const { value, floatPaths } = await ctx.body();
  const parsed = FieldUpdate.safeParse(value);
  if (!parsed.success) {
    const detail = zodDetail(parsed.error, value).map((item) =>
      item.type === 'value_error' && item.msg.startsWith('Unrecognized key')
        ? { ...item, type: 'extra_forbidden', msg: 'Extra inputs are not permitted' }
        : item,
    );
    throw new HttpError(422, detail);
  }
  const input = parsed.data;
  const type = input.field_type ?? row.field_type;
  const regex = input.validation_regex !== undefined ? input.validation_regex : row.validation_regex;
  const defaultValue = input.default_value !== undefined ? input.default_value : row.default_value;
  checkDefinition(type, regex, defaultValue, floatPaths.has('["default_value"]'), 'update');
  const boardIds = input.board_ids ? checkBoards(store, input.board_ids) : row.board_ids;
  Object.assign(row, {
    label: input.label ?? row.label,
    field_type: type,
    ui_visibility: input.ui_visibility ?? row.ui_visibility,
    validation_regex: regex,
    description: input.description !== undefined ? input.description : row.description,
    required: input.required ?? row.required,
    default_value: defaultValue ?? null,
    board_ids: boardIds,
    updated_at: nowMicros(),
  });
  return { body: store.fieldRead(row) };
}

function remove(ctx: RouteContext): { body: unknown } {
  const { store } = ctx;
  const row = fieldOr404(store, ctx.params.field_definition_id as string);
  if ([...store.tasks.values()].some((t) => t.values.has(row.id))) {
    throw new HttpError(409, 'Cannot delete a custom field definition while task values exist.');
  }
  store.fields.delete(row.id);
  return { body: { ok: true } };
}

export function customFieldRoutes(): Route[] {
  const base = '/organizations/me/custom-fields';
  return [
    route('GET', base, 'custom-fields', list),
    route('POST', base, 'custom-fields', create),
    route('PATCH', `${base}/{field_definition_id}`, 'custom-fields', update),
    route('DELETE', `${base}/{field_definition_id}`, 'custom-fields', remove),
  ];
}
