import { Writable } from 'node:stream';
import pino, { type Level } from 'pino';

/** A real pino logger whose JSON lines are kept, so a test can count what an operator would read. */
export function capturingLogger(level: Level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
