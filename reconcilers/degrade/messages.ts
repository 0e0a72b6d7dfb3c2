import { messages, type MessageCatalog, type MessageLocale } from '../../src/model/index.js';
import type { ParsedDegradeInput } from './input.js';

/** Notice texts in the kit's wording (legacy-kit.md §12), with the values that actually triggered. */

type Values = NonNullable<ParsedDegradeInput['lastSample']>['values'];

const pct = (n: number): string => `${Math.round(n * 100) / 100}%`;

function describe(m: MessageCatalog, values: Values, conditions: readonly string[], degradePct: number): string {
  const parts: string[] = [];
  if (values.usedPct !== undefined) {
    parts.push(conditions.some((c) => c.startsWith('usedPct')) ? `RAM ${pct(values.usedPct)} (>= ${degradePct}%)` : `RAM ${pct(values.usedPct)}`);
  }
  if (conditions.some((c) => c.startsWith('someAvg10') || c.startsWith('fullAvg10'))) {
    parts.push(`PSI some avg10=${values.someAvg10 ?? '?'} full avg10=${values.fullAvg10 ?? '?'}`);
  }
  if (conditions.some((c) => c.startsWith('headroomPct')) && values.headroomPct !== undefined) parts.push(`${m.cgroupHeadroom} ${pct(values.headroomPct)}`);
  if (conditions.includes('oomEvent')) parts.push(m.oomKill);
  if (conditions.includes('limitHit')) parts.push(m.cgroupLimit);
  if (conditions.some((c) => c.startsWith('heapPct')) && values.heapPct !== undefined) parts.push(`heap V8 ${pct(values.heapPct)}`);
  if (conditions.includes('nodeMemoryPressure')) parts.push(m.nodeMemoryPressure);
  return parts.length > 0 ? parts.join(', ') : m.memoryPressure;
}

export function enterNotice(values: Values, conditions: readonly string[], degradePct: number, locale?: MessageLocale): string {
  const m = messages(locale);
  return m.degradeEnter(describe(m, values, conditions, degradePct));
}

export function exitNotice(values: Values, recoverPct: number, locale?: MessageLocale): string {
  const m = messages(locale);
  return m.degradeExit(values.usedPct !== undefined ? `RAM ${pct(values.usedPct)} (<= ${recoverPct}%)` : m.memoryNormal);
}
