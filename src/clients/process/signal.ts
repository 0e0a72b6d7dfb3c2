export type SignalResult = 'sent' | 'gone' | 'denied';

/** process.kill without exceptions: ESRCH = already gone, EPERM = not ours to signal. */
export function sendSignal(pid: number, signal: NodeJS.Signals): SignalResult {
  try {
    process.kill(pid, signal);
    return 'sent';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return 'gone';
    if (code === 'EPERM') return 'denied';
    throw err;
  }
}
