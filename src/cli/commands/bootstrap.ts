import type { Command } from 'commander';
import { DESIRED_FIELDS } from '../../model/index.js';
import { runBootstrap } from '../../runtime/bootstrap.js';
import { oneShotExecutor } from '../../runtime/one-shot.js';
import { commandDoor, loadOrExit, loggerFor, missionControl, type GlobalFlags } from '../context.js';

export function registerBootstrap(program: Command): void {
  program
    .command('bootstrap')
    .description("create or bind the kit's custom fields and mc_conditions on every configured board; repair drift")
    .option('--json', 'print the report as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const { config } = loadOrExit(flags);
      const logger = loggerFor(config);
      // --dry-run (global) or MC_DRY_RUN shut the door: the executor then only describes the field creates and binds
      const door = commandDoor(config);
      const mc = missionControl(config, logger, door);
      const executor = oneShotExecutor({ mc, logger, stateDir: config.loop.stateDir, door });
      const dryRun = !door.isOpen;
      const report = await runBootstrap({ mc, executor, logger, closed: door.closedReason }, DESIRED_FIELDS, config.mc.boardIds);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ created: report.created, updated: report.updated, noop: report.noop, bound: report.bound, dryRun })}\n`);
        return;
      }
      for (const s of report.steps) {
        if (report.bound.includes(s.fieldKey)) process.stdout.write(`bound    ${s.fieldKey} (created meanwhile by another bootstrap)\n`);
        else if (s.op === 'create') process.stdout.write(`created  ${s.fieldKey} (${s.input.fieldType})\n`);
        else if (s.op === 'update') process.stdout.write(`updated  ${s.fieldKey}: ${s.why.join(', ')}\n`);
        else process.stdout.write(`noop     ${s.fieldKey}\n`);
      }
      process.stdout.write(
        `${dryRun ? '(dry run) ' : ''}created ${report.created.length}, updated ${report.updated.length}, noop ${report.noop.length}` +
          `${report.bound.length > 0 ? `, bound ${report.bound.length}` : ''}\n`,
      );
    });
}
