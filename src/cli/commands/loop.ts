import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import type { PassReport } from '../../runtime/controller.js';
import { DESIRED_FIELDS } from '../../model/index.js';
import { runBootstrap, type BootstrapStep } from '../../runtime/bootstrap.js';
import { bootstrapRows, planJsonLines, planTable } from '../../runtime/plan-printer.js';
import { Progress } from '../progress.js';
import { compose } from '../compose.js';
import { degradeWiring } from '../degrade.js';
import { autoBootstrap, elector, runLoop } from '../run-loop.js';
import { loadOrExit, loggerFor, missionControl, type GlobalFlags } from '../context.js';
import { startEmbedded, type Embedded } from '../embedded.js';
import { demoEnv } from '../demo.js';
import { handlersFor } from '../handlers.js';
import { EXIT } from '../exit-codes.js';
import { gatewaySource } from '../gateway.js';

/** A pass plus, when it only plans, the custom-field changes `run`/`once` would bootstrap before it. */
type OnePass = PassReport & { bootstrap: BootstrapStep[] };

async function onePass(config: Config, logger: Logger, mode: 'apply' | 'plan'): Promise<OnePass | null> {
  const progress = Progress.for(config.loop.logFormat);
  const mc = missionControl(config, logger, progress);
  // Only one instance writes at a time: a `once` that finds the lock (or Lease) held does nothing.
  const leader = mode === 'apply' ? await elector(config, logger, () => undefined) : null;
  if (leader && !(await leader.tryAcquire())) {
    logger.warn({ holder: leader.currentHolder() }, 'another instance holds the controller lock; nothing done');
    return null;
  }
  if (mode === 'apply') await autoBootstrap(config, logger, mc);
  // A plan before the first bootstrap would otherwise hide every concern that needs the missing fields.
  const bootstrap = mode === 'plan' ? (await runBootstrap(mc, DESIRED_FIELDS, config.mc.boardIds, { dryRun: true })).steps.filter((s) => s.op !== 'noop') : [];
  const gateway = gatewaySource(config, logger, {}, false);
  const degrade = await degradeWiring(config, logger, { oneShot: true });
  await degrade.monitor.sampleOnce();
  if (mode === 'apply') degrade.saveMachine();
  await degrade.inputs.refresh().catch((err: Error) => logger.warn({ err: err.message }, 'degrade inputs unavailable'));
  const { controller, globalState } = compose({
    config,
    logger,
    mc,
    gateway,
    dryRun: mode === 'plan',
    handlers: mode === 'apply' ? { ...handlersFor(config, logger), ...degrade.handlers } : {},
    degraded: degrade.degraded,
    pressure: degrade.pressure,
    // planned as if bootstrapped, since `run`/`once` bootstrap first (MC_AUTO_BOOTSTRAP)
    ...(config.mc.autoBootstrap ? { assumeBoundFields: bootstrap.map((s) => s.fieldKey) } : {}),
  });
  degrade.mirrorKitState(globalState);
  try {
    const report = await controller.pass(mode, (done, total) => progress.planned(done, total));
    return { ...report, bootstrap };
  } finally {
    progress.end();
    await gateway?.api.close();
    await leader?.release();
  }
}

function printPlan(report: OnePass, config: Config, json: boolean | undefined): void {
  const rows = [...bootstrapRows(report.bootstrap, config.mc.autoBootstrap), ...report.entries];
  if (json) {
    if (rows.length > 0) process.stdout.write(`${planJsonLines(rows)}\n`);
  } else process.stdout.write(`${planTable(rows)}\n`);
}

function summary(report: PassReport): string {
  const by = (o: string) => report.entries.filter((e) => 'outcome' in e && e.outcome === o).length;
  return `${report.keys} keys, ${report.entries.length} actions (${by('applied')} applied, ${by('skipped')} skipped, ${by('deferred')} deferred, ${by('failed')} failed), ${report.requests} requests, ${report.writes} writes`;
}

export function registerLoop(program: Command): void {
  program
    .command('plan')
    .description('one pass, no writes: print what the controller would do')
    .option('--json', 'one JSON object per line: key, reconciler, action, reason, idempotencyKey, diff')
    .option('--exit-code', 'exit 3 when the plan is not empty')
    .action(async (opts: { json?: boolean; exitCode?: boolean }, cmd: Command) => {
      const { config } = loadOrExit(cmd.optsWithGlobals<GlobalFlags>());
      const report = (await onePass(config, loggerFor(config), 'plan'))!;
      printPlan(report, config, opts.json);
      if (opts.exitCode && report.entries.length + report.bootstrap.length > 0) process.exitCode = EXIT.attention;
    });

  program
    .command('once')
    .description('one pass that applies its actions; exit 0 on success, 1 if any action failed')
    .option('--dry-run', 'plan only (same as `plan`)')
    .option('--json', 'print applied actions as JSON lines')
    .action(async (opts: { dryRun?: boolean; json?: boolean }, cmd: Command) => {
      const { config } = loadOrExit({ ...cmd.optsWithGlobals<GlobalFlags>(), ...(opts.dryRun ? { dryRun: true } : {}) });
      const logger = loggerFor(config);
      const report = await onePass(config, logger, config.loop.dryRun ? 'plan' : 'apply');
      if (!report) return;
      if (config.loop.dryRun) printPlan(report, config, opts.json);
      else if (opts.json) {
        if (report.entries.length > 0) process.stdout.write(`${planJsonLines(report.entries)}\n`);
      } else process.stdout.write(`${summary(report)}\n`);
      for (const f of report.failures) logger.error({ key: f.key }, f.error ?? 'failed');
      if (report.failures.length > 0) process.exitCode = EXIT.failed;
    });

  program
    .command('run')
    .description('the reconcile loop (until SIGTERM)')
    .option('--sandbox-when-unconfigured', 'with no MC_API_URL, start the embedded sandbox with demo data and run against it')
    .action(async (opts: { sandboxWhenUnconfigured?: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      let embedded: Embedded | null = null;
      let env = process.env;
      if (opts.sandboxWhenUnconfigured && !process.env.MC_API_URL && !loadOrExit(flags).config.mc.apiUrl) {
        embedded = await startEmbedded({ seed: 'demo' });
        env = demoEnv(embedded);
      }
      const { config } = loadOrExit(flags, env);
      const logger = loggerFor(config);
      await runLoop(config, logger);
      await embedded?.close();
    });
}
