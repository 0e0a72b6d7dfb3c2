#!/usr/bin/env node
import { Command, CommanderError, Help } from 'commander';
import { registerBootstrap } from './commands/bootstrap.js';
import { registerConfig } from './commands/config.js';
import { registerDoctor } from './commands/doctor.js';
import { registerCost } from './commands/cost.js';
import { registerLoop } from './commands/loop.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerTask } from './commands/task.js';
import { CliExit, EXIT } from './exit-codes.js';
import { VERSION } from './version.js';

export function buildProgram(): Command {
  const program = new Command('mc-controller')
    .description('Keeps a Mission Control board in step with an OpenClaw gateway: watchdog, delivery, approvals, cost, degrade mode.')
    .version(VERSION, '-V, --version')
    .option('--config <path>', 'legacy kit config file (MC_CONFIG_PATH); its .local.json overlay is read too')
    .option('--api-url <url>', 'Mission Control API base including /api/v1 (MC_API_URL)')
    .option('--board <ids>', 'board id(s), comma-separated (MC_BOARD_ID)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (MC_LOG_LEVEL)')
    .option('--dry-run', 'write nothing: plan and log what would be done (MC_DRY_RUN); for every command, before or after its name')
    .showHelpAfterError('(run with --help for usage)')
    // commander lists required options like optional ones: say which are required (inherited by every command)
    .configureHelp({
      showGlobalOptions: true,
      optionDescription: (option) => `${option.mandatory ? '(required) ' : ''}${new Help().optionDescription(option)}`,
    })
    .exitOverride();
  registerLoop(program);
  registerBootstrap(program);
  registerSandbox(program);
  registerConfig(program);
  registerTask(program);
  registerDoctor(program);
  registerCost(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.invalid;
      return;
    }
    if (err instanceof CliExit) {
      process.stderr.write(`mc-controller: ${err.message}\n`);
      process.exitCode = err.code;
      return;
    }
    process.stderr.write(`mc-controller: ${(err as Error).message}\n`);
    process.exitCode = EXIT.failed;
  }
}

// A crash outside any reconcile is a bug: one line, exit 1, and the supervisor restarts us.
process.on('uncaughtException', (err) => {
  process.stderr.write(`mc-controller: fatal: ${err.message}\n`);
  process.exit(EXIT.failed);
});
process.on('unhandledRejection', (err) => {
  process.stderr.write(`mc-controller: fatal: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(EXIT.failed);
});

void main(process.argv);
