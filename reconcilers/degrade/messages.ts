import type { ParsedDegradeInput } from './input.js';

/** Notice texts in the kit's wording (legacy-kit.md §12), with the values that actually triggered. */

type Values = NonNullable<ParsedDegradeInput['lastSample']>['values'];

const pct = (n: number): string => `${Math.round(n * 100) / 100}%`;

function describe(values: Values, conditions: readonly string[], degradePct: number): string {
  const parts: string[] = [];
  if (values.usedPct !== undefined) {
    parts.push(conditions.some((c) => c.startsWith('usedPct')) ? `RAM ${pct(values.usedPct)} (>= ${degradePct}%)` : `RAM ${pct(values.usedPct)}`);
  }
  if (conditions.some((c) => c.startsWith('someAvg10') || c.startsWith('fullAvg10'))) {
    parts.push(`PSI some avg10=${values.someAvg10 ?? '?'} full avg10=${values.fullAvg10 ?? '?'}`);
  }
  if (conditions.some((c) => c.startsWith('headroomPct')) && values.headroomPct !== undefined) parts.push(`folga do cgroup ${pct(values.headroomPct)}`);
  if (conditions.includes('oomEvent')) parts.push('OOM kill detectado');
  if (conditions.includes('limitHit')) parts.push('limite de memória do cgroup atingido');
  if (conditions.some((c) => c.startsWith('heapPct')) && values.heapPct !== undefined) parts.push(`heap V8 ${pct(values.heapPct)}`);
  if (conditions.includes('nodeMemoryPressure')) parts.push('Node com MemoryPressure');
  return parts.length > 0 ? parts.join(', ') : 'pressão de memória';
}

export function enterNotice(values: Values, conditions: readonly string[], degradePct: number): string {
  return `🛑 Resource degrade mode ativado: ${describe(values, conditions, degradePct)}. Spawns críticos em pausa.`;
}

export function exitNotice(values: Values, recoverPct: number): string {
  const ram = values.usedPct !== undefined ? `RAM ${pct(values.usedPct)} (<= ${recoverPct}%)` : 'pressão de memória normalizada';
  return `✅ Recover de recursos: ${ram}. Retomando operação normal.`;
}
