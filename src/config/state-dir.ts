import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Where the controller keeps its lock and global ledger when MC_STATE_DIR is not set. Always absolute: a relative
 * default made two `run`s started from different directories take two different locks and both lead one board.
 * systemd's `StateDirectory=` ($STATE_DIRECTORY, first entry), else /var/lib/mc-controller as root, else the XDG
 * state home.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv, uid: number | undefined = process.getuid?.()): string {
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd && isAbsolute(systemd)) return systemd;
  if (uid === 0) return '/var/lib/mc-controller';
  const xdg = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(xdg, 'mc-controller');
}

/** An explicit MC_STATE_DIR, made absolute against the working directory so logs and `doctor` name the real place. */
export function absoluteStateDir(value: string, cwd: string): string {
  return resolve(cwd, value);
}
