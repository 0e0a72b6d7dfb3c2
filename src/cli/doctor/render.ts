import type { CheckResult } from './check.js';

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

/** One line per check: ✓ pass, ! pass with a consequence, ✗ fail, – skipped; hints indented under it. */
export function renderDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of report.checks) {
    const mark = c.skipped ? '–' : !c.ok ? '✗' : c.warning ? '!' : '✓';
    lines.push(`${mark} ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.hint && (!c.ok || c.warning)) lines.push(`  ${' '.repeat(width)}  → ${c.hint}`);
  }
  const failed = report.checks.filter((c) => !c.ok).length;
  const skipped = report.checks.filter((c) => c.skipped).length;
  const warned = report.checks.filter((c) => c.warning).length;
  lines.push(
    '',
    `${report.checks.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped${warned > 0 ? `, ${warned} with a warning` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
