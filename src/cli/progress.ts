import { humanOutput, type LogFormat } from '../runtime/logger.js';
import { statusLine } from '../runtime/status-line.js';

/**
 * One status line on stderr that rewrites itself while a long pass runs (pages read, tasks planned), for a
 * person at a terminal; a no-op when output is piped, so scripts and logs see nothing extra.
 */
export class Progress {
  private lastAt = 0;
  private shown = false;

  constructor(
    private readonly enabled: boolean,
    private readonly everyMs = 100,
  ) {}

  static for(format: LogFormat): Progress {
    return new Progress(humanOutput(format));
  }

  /** A listing read one more page: `reading tasks: 400/1200`. */
  page(p: { path: string; rows: number; total: number }): void {
    const what = /\/(\w+)$/.exec(p.path)?.[1] ?? 'rows';
    this.show(`reading ${what}: ${p.rows}/${p.total}`, p.rows >= p.total);
  }

  /** `planning: 340/1200 keys` */
  planned(done: number, total: number): void {
    this.show(`planning: ${done}/${total} keys`, done === total);
  }

  /** Clears the line before the result is printed. */
  end(): void {
    if (this.shown) statusLine.clear();
    this.shown = false;
  }

  private show(text: string, last: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    // The first and the last update always show; the ones between at most every `everyMs`.
    if (this.shown && !last && now - this.lastAt < this.everyMs) return;
    this.lastAt = now;
    this.shown = true;
    statusLine.set(text);
  }
}
