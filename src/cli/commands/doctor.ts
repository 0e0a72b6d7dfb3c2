import type { Command } from 'commander';
import { MissionControlClient } from '../../clients/mission-control/index.js';
import { EffectsDoor } from '../../runtime/effects/door.js';
import { createLogger } from '../../runtime/logger.js';
import { loadOrExit, requireMissionControl, type GlobalFlags } from '../context.js';
import { EXIT } from '../exit-codes.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('read-only checks of a deployment (Mission Control, boards, fields, board rules, gateway, Discord, memory signal, leader); exit 0 when all pass, 1 when a check fails, 2 when the configuration is invalid or missing')
    .option('--json', 'print {ok, checks:[{name, ok, skipped?, warning?, detail, hint?}]}')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const loaded = loadOrExit(flags);
      const { config } = loaded;
      // Like every other command: no board to check is a configuration problem (exit 2), not a failed check.
      requireMissionControl(config);
      // The report is the output; client logs stay quiet unless a log level was asked for.
      const logger = createLogger({ level: loaded.sources['loop.logLevel'] ? config.loop.logLevel : 'error', format: config.loop.logFormat });
      const mc =
        config.mc.apiUrl && config.mc.authToken
          ? // doctor only reads: its door is shut, so a check can never write by mistake
            EffectsDoor.closed('read-only').missionControl(
              new MissionControlClient({ apiUrl: config.mc.apiUrl, token: config.mc.authToken, timeoutMs: config.mc.timeoutMs, retries: 1, logger }),
            )
          : null;
      // Loaded on demand: the checks pull in the Kubernetes and Discord clients, which other commands avoid.
      const { renderDoctor, runDoctor } = await import('../doctor/index.js');
      const report = await runDoctor(loaded, mc);
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : renderDoctor(report));
      process.exitCode = report.ok ? EXIT.ok : EXIT.failed;
    });
}
