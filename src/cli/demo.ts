import { relative, resolve } from 'node:path';
import { DEMO_OVERRIDES, DEMO_SESSION_KEY, embeddedEnv, writeEnvFile, type Embedded } from './embedded.js';

/** The demo's state dir; its connection settings go next to it, `.mc-controller/sandbox.env` (git-ignored). */
const DEMO_STATE_DIR = '.mc-controller/sandbox';

/**
 * The environment `npm start` runs the loop with against the embedded sandbox, the env file that lets a
 * newcomer run any other command against the same demo, and the banner that says both.
 */
export function demoEnv(embedded: Embedded, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const { info } = embedded;
  // An operator's own MC_WATCHDOG_SCOPE / MC_DELIVERY_BACKLOG win; only the overrides really applied are shown.
  const overrides = Object.entries(DEMO_OVERRIDES).filter(([name]) => env[name] === undefined);
  const stateDir = resolve(env.MC_STATE_DIR ?? DEMO_STATE_DIR);
  const shared: Record<string, string> = {
    ...embeddedEnv(info),
    ...Object.fromEntries(overrides.map(([name, o]) => [name, o.value])),
    // the same state dir (and so the same lock) as the demo loop: a `once` from the env file never races it
    MC_STATE_DIR: stateDir,
  };
  const envFile = `${stateDir}.env`;
  const shown = relative(process.cwd(), envFile).startsWith('..') ? envFile : relative(process.cwd(), envFile);
  writeEnvFile(
    envFile,
    `# mc-controller demo (npm start): the embedded sandbox, valid while it runs. Tokens inside: keep it private.\n` +
      `# Demo settings that differ from production: ${overrides.map(([n, o]) => `${n}=${o.value} (production default: ${o.production})`).join(', ') || 'none'}`,
    shared,
  );
  const lines = [
    `mc-controller: no MC_API_URL set, running against the embedded sandbox (Mission Control ${info.mcApiUrl}, board ${info.boardId}).`,
    ...(overrides.length > 0
      ? [`  demo settings (not the production defaults): ${overrides.map(([n, o]) => `${n}=${o.value} (default ${o.production})`).join(', ')}`]
      : []),
    `  next, in another terminal:   source ${shown} && npx mc-controller plan`,
    `  what it posted to Discord:   curl -s ${info.controlUrl}/discord/messages`,
    `  change the demo session:     curl -s -X PUT ${info.controlUrl}/sessions/${DEMO_SESSION_KEY} -d '{"status":"done"}'   (see docs/sandbox.md)`,
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
  return {
    // a demo must not fail because 8080/8081 are taken on a developer's machine
    MC_PROBE_ADDR: '127.0.0.1:0',
    MC_METRICS_ADDR: '127.0.0.1:0',
    ...env,
    ...shared,
  };
}
