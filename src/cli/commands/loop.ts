import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import type { PassReport } from '../../runtime/controller/index.js';
import type { LeaderElector } from '../../runtime/leader/index.js';
import { DESIRED_FIELDS } from '../../model/index.js';
import { runBootstrap } from '../../runtime/bootstrap.js';
import { oneShotExecutor, type OneShotEntry } from '../../runtime/one-shot.js';
import { bootstrapRows, failureJsonLines, planJsonLines, planTable } from '../../runtime/plan-printer.js';
import { Progress } from '../progress.js';
import { composeController } from '../compose.js';
import { degradeWiring } from '../degrade.js';
import { EffectsDoor } from '../../runtime/effects/door.js';
import { autoBootstrap, elector, runLoop } from '../run-loop.js';
import { CliExit, EXIT } from '../exit-codes.js';
import { loadOrExit, loggerFor, missionControl, type GlobalFlags } from '../context.js';
import { startEmbedded, type Embedded } from '../embedded.js';
import { demoEnv } from '../demo.js';
import { gatewaySource } from '../gateway.js';

/** A pass plus, when it only plans, the custom-field changes `run`/`once` would bootstrap before it. */
type OnePass = PassReport & { bootstrap: OneShotEntry[] };

/**
 * One pass. `plan` (and `once` in a dry run) shut the effects door; an applying `once` first takes the lock or
 * Lease, and finding it held is an error naming the holder (exit 4), never a silent "nothing done".
 */
async function onePass(config: Config, logger: Logger, intent: 'apply' | 'plan'): Promise<OnePass> {
  const applying = intent === 'apply' && !config.loop.dryRun;
  let leader: LeaderElector | null = null;
  const door = !applying ? EffectsDoor.closed(intent === 'plan' ? 'plan' : 'dry-run') : EffectsDoor.whileLeading(() => leader?.isLeader() ?? false);
  const progress = Progress.for(config.loop.logFormat);
  // an unusable configuration exits 2 before the lock is touched
  const mc = missionControl(config, logger, door, { progress });
  leader = applying ? await elector(config, logger, () => undefined) : null;
  if (leader && !(await leader.tryAcquire())) {
    const holder = leader.describeHolder?.() ?? leader.currentHolder() ?? 'an unknown holder';
    throw new CliExit(EXIT.locked, `another instance holds the controller lock: ${holder}; nothing done`);
  }
  try {
    const executor = oneShotExecutor({ mc, logger, stateDir: config.loop.stateDir, door });
    await autoBootstrap(config, logger, mc, door, executor);
    // A plan before the first bootstrap would otherwise hide every concern that needs the missing fields.
    const bootstrap = door.isOpen ? [] : (await runBootstrap({ mc, executor, logger, closed: door.closedReason }, DESIRED_FIELDS, config.mc.boardIds)).entries;
    const gateway = gatewaySource(config, logger, {}, false);
    try {
      const degrade = await degradeWiring(config, logger, door, { oneShot: true });
      await degrade.monitor.sampleOnce();
      if (door.isOpen) degrade.saveMachine();
      await degrade.inputs.refresh().catch((err: Error) => logger.warn({ err: err.message }, 'degrade inputs unavailable'));
      const { controller } = composeController({
        config,
        logger,
        mc,
        gateway,
        door,
        degrade,
        // planned as if bootstrapped, since `run`/`once` bootstrap first (MC_AUTO_BOOTSTRAP)
        ...(config.mc.autoBootstrap ? { assumeBoundFields: bootstrap.map((e) => e.key.replace(/^field\//, '')) } : {}),
      });
      const report = await controller.pass(door.isOpen ? 'apply' : 'plan', (done, total) => progress.planned(done, total));
      return { ...report, bootstrap };
    } finally {
      progress.end();
      await gateway?.api.close();
    }
  } finally {
    await leader?.release();
  }
}

function printPlan(report: OnePass, config: Config, json: boolean | undefined): void {
  const rows = [...bootstrapRows(report.bootstrap, config.mc.autoBootstrap), ...report.entries];
  if (json) {
    if (rows.length > 0) process.stdout.write(`${planJsonLines(rows)}\n`);
    if (report.failures.length > 0) process.stdout.write(`${failureJsonLines(report.failures)}\n`);
  } else process.stdout.write(`${planTable(rows, report.failures)}\n`);
}

interface PassOutcome {
  keys: number;
  actions: number;
  applied: number;
  skipped: number;
  deferred: number;
  failed: number;
  /** keys whose reconcile failed as a whole (e.g. a read), with the error */
  failedKeys: { key: string; error: string }[];
  requests: number;
  writes: number;
  exitCode: number;
}

/** What `once` reports and exits with: any failed action or failed key is a failure (exit 1). */
function outcomeOf(report: PassReport): PassOutcome {
  const by = (o: string) => report.entries.filter((e) => 'outcome' in e && e.outcome === o).length;
  const failed = by('failed');
  const failedKeys = report.failures.map((f) => ({ key: f.key, error: f.error ?? 'failed' }));
  return {
    keys: report.keys,
    actions: report.entries.length,
    applied: by('applied'),
    skipped: by('skipped'),
    deferred: by('deferred'),
    failed,
    failedKeys,
    requests: report.requests,
    writes: report.writes,
    exitCode: failed > 0 || failedKeys.length > 0 ? EXIT.failed : EXIT.ok,
  };
}

function summary(o: PassOutcome): string {
  const keys = o.failedKeys.length > 0 ? `, ${o.failedKeys.length} key(s) failed` : '';
  return `${o.keys} keys, ${o.actions} actions (${o.applied} applied, ${o.skipped} skipped, ${o.deferred} deferred, ${o.failed} failed${keys}), ${o.requests} requests, ${o.writes} writes`;
}

export function registerLoop(program: Command): void {
  program
    .command('plan')
    .description('one pass, no writes: print what the controller would do')
    .option('--json', 'one JSON object per line: key, reconciler, action, reason, idempotencyKey, diff')
    .option('--exit-code', 'exit 3 when the plan is not empty')
    .action(async (opts: { json?: boolean; exitCode?: boolean }, cmd: Command) => {
      const { config } = loadOrExit(cmd.optsWithGlobals<GlobalFlags>());
      const report = await onePass(config, loggerFor(config), 'plan');
      printPlan(report, config, opts.json);
      // A key that could not be planned is never "nothing to do": the plan is incomplete.
      if (report.failures.length > 0) process.exitCode = EXIT.failed;
      else if (opts.exitCode && report.entries.length + report.bootstrap.length > 0) process.exitCode = EXIT.attention;
    });

  program
    .command('once')
    .description('one pass that applies its actions; exit 0 on success, 1 if any action failed, 4 if another instance holds the lock')
    .option('--json', 'print the actions as JSON lines, then one {"outcome": …} line with the counts and the exit code')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { config } = loadOrExit(cmd.optsWithGlobals<GlobalFlags>());
      const logger = loggerFor(config);
      const report = await onePass(config, logger, 'apply');
      const outcome = outcomeOf(report);
      if (opts.json) {
        if (report.entries.length > 0) process.stdout.write(`${planJsonLines(report.entries)}\n`);
        process.stdout.write(`${JSON.stringify({ outcome: { ...outcome, dryRun: config.loop.dryRun } })}\n`);
      } else if (config.loop.dryRun) printPlan(report, config, false);
      else process.stdout.write(`${summary(outcome)}\n`);
      for (const e of report.entries) if ('outcome' in e && e.outcome === 'failed') logger.error({ key: e.key, action: e.action }, `${e.action} failed: ${e.detail ?? 'error'}`);
      for (const f of outcome.failedKeys) logger.error({ key: f.key }, f.error);
      process.exitCode = outcome.exitCode;
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
      // Whatever a peer left open (keep-alive sockets, a library's timer) must not stretch the shutdown budget.
      process.exit(process.exitCode ?? EXIT.ok);
    });
}
