import { isLosslessNumber } from 'lossless-json';
import { shapeOf } from './records.js';

/**
 * Compares an answer of the sandbox with the recorded upstream answer: status, body shape (keys and
 * value types, recursively) and, in error bodies, the texts upstream fixes (`detail` strings,
 * `message`/`reason`/`code`, pydantic `type`/`loc`/`msg`).
 *
 * `null` on either side is not a type mismatch: nullable fields (`in_progress_at`, `resolved_at`,
 * `assigned_agent_id`, …) hold state the replay cannot always reproduce. In `custom_field_values`
 * an integer and a float are both "a number": the value, not the definition, decides there.
 */

export type Aspect = 'status' | 'shape' | 'text';

export interface Divergence {
  aspect: Aspect;
  where: string;
  detail: string;
}

const plain = (v: unknown): unknown => (isLosslessNumber(v) ? Number(v.value) : typeof v === 'bigint' ? Number(v) : v);

function compareShape(recorded: unknown, actual: unknown, where: string, out: Divergence[], numbersLoose: boolean): void {
  let r = shapeOf(recorded);
  let a = shapeOf(actual);
  if (r === 'null' || a === 'null') return;
  if (numbersLoose) {
    if (r === 'float') r = 'integer';
    if (a === 'float') a = 'integer';
  }
  if (r !== a) {
    out.push({ aspect: 'shape', where, detail: `upstream ${r}, sandbox ${a}` });
    return;
  }
  if (r === 'array') {
    const ra = recorded as unknown[];
    const aa = actual as unknown[];
    if (ra.length > 0 && aa.length > 0) compareShape(ra[0], aa[0], `${where}[0]`, out, numbersLoose);
    return;
  }
  if (r !== 'object') return;
  const ro = recorded as Record<string, unknown>;
  const ao = actual as Record<string, unknown>;
  const rk = Object.keys(ro).filter((k) => k !== '_conformance_note');
  const ak = Object.keys(ao);
  const missing = rk.filter((k) => !(k in ao));
  const extra = ak.filter((k) => !(k in ro));
  // custom_field_values keys are the board's field definitions at that moment: state, which the
  // recording does not fully show (field deletes and re-creates were dropped as repeats).
  const keysAreState = where.endsWith('.custom_field_values');
  if (keysAreState) missing.length = extra.length = 0;
  if (missing.length > 0) out.push({ aspect: 'shape', where, detail: `keys missing in the sandbox: ${missing.sort().join(', ')}` });
  if (extra.length > 0) out.push({ aspect: 'shape', where, detail: `keys only in the sandbox: ${extra.sort().join(', ')}` });
  for (const k of rk) {
    if (k in ao) compareShape(ro[k], ao[k], `${where}.${k}`, out, numbersLoose || k === 'custom_field_values');
  }
}

const TEXT_KEYS = ['message', 'reason', 'code', 'field_key', 'field_type'];

function compareErrorTexts(recorded: unknown, actual: unknown, out: Divergence[]): void {
  const r = (recorded as { detail?: unknown } | null)?.detail;
  const a = (actual as { detail?: unknown } | null)?.detail;
  const text = (where: string, rv: unknown, av: unknown): void => {
    if (JSON.stringify(plain(rv)) !== JSON.stringify(plain(av))) {
      out.push({ aspect: 'text', where, detail: `upstream ${JSON.stringify(plain(rv))}, sandbox ${JSON.stringify(plain(av))}` });
    }
  };
  if (typeof r === 'string') {
    text('$.detail', r, a);
  } else if (Array.isArray(r)) {
    if (!Array.isArray(a) || a.length !== r.length) {
      out.push({ aspect: 'text', where: '$.detail', detail: `upstream ${r.length} items, sandbox ${Array.isArray(a) ? a.length : 'no list'}` });
      return;
    }
    r.forEach((item, i) => {
      for (const k of ['type', 'loc', 'msg']) text(`$.detail[${i}].${k}`, (item as Record<string, unknown>)[k], (a[i] as Record<string, unknown>)[k]);
    });
  } else if (r && typeof r === 'object' && a && typeof a === 'object') {
    for (const k of TEXT_KEYS) {
      if (k in r) text(`$.detail.${k}`, (r as Record<string, unknown>)[k], (a as Record<string, unknown>)[k]);
    }
  }
}

export function compareExchange(
  recorded: { status: number; body: unknown },
  actual: { status: number; body: unknown },
): Divergence[] {
  const out: Divergence[] = [];
  if (recorded.status !== actual.status) {
    out.push({ aspect: 'status', where: '$', detail: `upstream ${recorded.status}, sandbox ${actual.status}` });
    return out;
  }
  compareShape(recorded.body, actual.body, '$', out, false);
  if (recorded.status >= 400) compareErrorTexts(recorded.body, actual.body, out);
  return out;
}
