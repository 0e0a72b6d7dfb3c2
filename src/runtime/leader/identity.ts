import { hostname } from 'node:os';

/**
 * The pod name when the manifest passes it (downward API `POD_NAME`), else `hostname:pid` so two
 * processes on one host never share an identity.
 */
export function defaultIdentity(env: NodeJS.ProcessEnv = process.env): string {
  const pod = env['POD_NAME']?.trim();
  return pod ? pod : `${hostname()}:${process.pid}`;
}
