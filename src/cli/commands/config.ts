import type { Command } from 'commander';
import { allSources, redactedConfig } from '../../config/index.js';
import { renderConfigReference } from '../../config/reference.js';
import { loadOrExit, type GlobalFlags } from '../context.js';

export function registerConfig(program: Command): void {
  program
    .command('config')
    .description('show the effective configuration (secrets redacted)')
    .option('--print', 'print the effective configuration as JSON', true)
    .option('--reference', 'print the configuration reference (markdown, docs/configuration.md) instead; needs no configuration')
    .action((opts: { reference?: boolean }, cmd: Command) => {
      if (opts.reference) return void process.stdout.write(renderConfigReference());
      const loaded = loadOrExit(cmd.optsWithGlobals<GlobalFlags>());
      const out = { config: redactedConfig(loaded), sources: allSources(loaded), files: loaded.files };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });
}
