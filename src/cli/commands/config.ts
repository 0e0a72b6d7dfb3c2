import type { Command } from 'commander';
import { redactedConfig } from '../../config/index.js';
import { loadOrExit, type GlobalFlags } from '../context.js';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('show the effective configuration (secrets redacted)')
    .option('--print', 'print the effective configuration as JSON', true)
    .action((_opts: unknown, cmd: Command) => {
      const loaded = loadOrExit(cmd.optsWithGlobals<GlobalFlags>());
      const out = { config: redactedConfig(loaded), sources: loaded.sources, files: loaded.files };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
}
