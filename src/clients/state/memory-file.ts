import type { z } from 'zod';
import type { StateFile, StateRead } from './json-file.js';

/**
 * A state file that lasts as long as the process: for a one-shot command whose record is kept elsewhere (the
 * Discord channel), so it writes no file that the running controller owns or that its user may not write.
 */
export class MemoryStateFile implements StateFile {
  private stored: { value: unknown } | null = null;

  constructor(readonly path: string) {}

  read<T>(schema: z.ZodType<T>): StateRead<T> {
    if (!this.stored) return { kind: 'missing' };
    const parsed = schema.safeParse(this.stored.value);
    return parsed.success ? { kind: 'ok', value: parsed.data } : { kind: 'corrupt', reason: 'unexpected content', keptAs: this.path };
  }

  write(value: unknown): void {
    this.stored = { value: structuredClone(value) };
  }
}
