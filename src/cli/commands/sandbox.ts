import type { Command } from 'commander';
import { CliExit, EXIT } from '../exit-codes.js';
import { embeddedEnv, exportLines, startEmbedded } from '../embedded.js';

export function registerSandbox(program: Command): void {
  program
    .command('sandbox')
    .description('run the contract-faithful Mission Control, gateway and Discord fakes on 127.0.0.1; prints one JSON line when ready')
    .option('--seed <seed>', 'demo | empty', 'demo')
    .option('--mc-port <port>', 'Mission Control port (default: a free one)')
    .option('--discord-port <port>', 'Discord fake port (default: a free one)')
    .option('--control-port <port>', 'control API port (default: a free one)')
    .option('--gateway-port <port>', 'gateway simulator port (default: a free one)')
    .option('--streams <mode>', "SSE timing: upstream (poll every 2 s, like the real backend) | instant (also push on every change)", 'upstream')
    .option('--env', 'print `export MC_API_URL=… MC_AUTH_TOKEN=…` lines a shell can source instead of the JSON line')
    .action(async (opts: { seed: string; streams: string; mcPort?: string; discordPort?: string; controlPort?: string; gatewayPort?: string; env?: boolean }) => {
      if (opts.seed !== 'demo' && opts.seed !== 'empty') throw new CliExit(EXIT.invalid, `--seed must be demo or empty, not ${opts.seed}`);
      if (opts.streams !== 'upstream' && opts.streams !== 'instant') {
        throw new CliExit(EXIT.invalid, `--streams must be upstream or instant, not ${opts.streams}`);
      }
      const port = (v: string | undefined, name: string) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliExit(EXIT.invalid, `${name} must be a port number`);
        return n;
      };
      const sandbox = await startEmbedded({
        seed: opts.seed,
        streams: opts.streams,
        ports: {
          mc: port(opts.mcPort, '--mc-port'),
          discord: port(opts.discordPort, '--discord-port'),
          control: port(opts.controlPort, '--control-port'),
          gateway: port(opts.gatewayPort, '--gateway-port'),
        },
      });
      // The JSON keys are the sandbox's own names; --env maps them to the variables the controller reads.
      process.stdout.write(opts.env ? `${exportLines(embeddedEnv(sandbox.info))}\n` : `${JSON.stringify(sandbox.info)}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      await sandbox.close();
    });
}
