/**
 * The one rewritable line at the bottom of a terminal (progress of a long pass). Log lines are written above it:
 * clear it, write the line, draw it again, so a progress text never runs into a log line.
 */
let current = '';
const CLEAR = '\r\x1b[K';

export const statusLine = {
  set(text: string): void {
    current = text;
    process.stderr.write(`${CLEAR}${text}`);
  },
  clear(): void {
    if (current) process.stderr.write(CLEAR);
    current = '';
  },
  above(text: string): void {
    process.stderr.write(current ? `${CLEAR}${text}${current}` : text);
  },
};
