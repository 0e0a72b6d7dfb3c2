import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import { startMetricsServer, startProbeServer, type RunningServer } from '../clients/probes/index.js';
import { DESIRED_FIELDS } from '../model/index.js';
import { runBootstrap } from '../runtime/bootstrap.js';
import { EffectsDoor } from '../runtime/effects/door.js';
import type { Executor } from '../runtime/executor.js';
import { buildReadiness } from '../runtime/readiness.js';
import { createElector, defaultIdentity, LeaderElectionConfigError, PassiveElector, type LeaderElector } from '../runtime/leader/index.js';
import { createMetrics } from '../runtime/metrics.js';
import { installShutdown } from '../runtime/shutdown.js';
import { StartupRefused, StartupState, untilMissionControlAnswers } from '../runtime/startup.js';
import { composeController } from './compose.js';
import { degradeWiring } from './degrade.js';
import { missionControl } from './context.js';
import { CliExit, EXIT } from './exit-codes.js';
import { gatewaySource } from './gateway.js';
import { kubeConfig } from './kube.js';
import { warmDiscord } from './handlers.js';

/**
 * The KubeConfig leader election uses: none for lockfile/none; in a pod the service account; with an explicit
 * MC_LEADER_ELECTION=lease also the file named by KUBECONFIG (otherwise `lease` could never work outside a pod).
 * `auto` ignores KUBECONFIG so a developer's kubectl context never turns a local run into a Lease holder.
 */
export async function electionKubeConfig(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig | undefined> {
  const mode = config.ops.leaderElection;
  if (mode === 'lockfile' || mode === 'none') return undefined;
  return kubeConfig(mode === 'lease' && env['KUBECONFIG'] ? { file: env['KUBECONFIG'], env } : { env });
}

export async function elector(
  config: Config,
  logger: Logger,
  onLost: (reason: string) => void,
  onLeading?: () => void,
): Promise<LeaderElector> {
  try {
    return await createElector(
      { ...config.ops, mode: config.ops.leaderElection, stateDir: config.loop.stateDir },
      {
        kubeConfig: await electionKubeConfig(config),
        callbacks: {
          onStartedLeading: () => {
            logger.info('leading: this instance acts');
            onLeading?.();
          },
          onStoppedLeading: onLost,
          onNewLeader: (id) => logger.info({ leader: id }, 'observed leader'),
        },
        logger,
      },
    );
  } catch (err) {
    if (err instanceof LeaderElectionConfigError) throw new CliExit(EXIT.invalid, `invalid configuration:\n  - ${err.message}`);
    throw err;
  }
}

/**
 * `run` and `once` create or repair the controller's fields first (MC_AUTO_BOOTSTRAP, on by default); only with the
 * door open (`mc` and `executor` are behind the same door, so a forgotten check would be refused, not written).
 */
export async function autoBootstrap(config: Config, logger: Logger, mc: MissionControlApi, door: EffectsDoor, executor: Executor): Promise<void> {
  if (!config.mc.autoBootstrap || !door.isOpen) return;
  const report = await runBootstrap({ mc, executor, logger, closed: door.closedReason }, DESIRED_FIELDS, config.mc.boardIds);
  if (report.created.length + report.updated.length > 0)
    logger.info({ created: report.created, updated: report.updated }, 'bootstrapped controller custom fields');
}

/** Budgets of the shutdown steps after the drain; the overall deadline is the drain plus SHUTDOWN_TAIL_MS. */
const ABORT_SETTLE_MS = 1_500;
const STEP_MS = 1_000;
const SHUTDOWN_TAIL_MS = 5_000;

/** `run`: probes and metrics, leader election, the loop, and an orderly shutdown on SIGTERM. */
export async function runLoop(config: Config, logger: Logger): Promise<void> {
  // Aborted at the drain deadline: every request still in flight then is cancelled, so none outlives the budget.
  const lifetime = new AbortController();
  const metrics = createMetrics();
  const resyncMs = config.loop.resyncSeconds * 1000;
  let enqueueSession: (key: string) => void = () => undefined;
  let resyncAll: () => void = () => undefined;
  let onTakeover: () => void = () => undefined;
  const dryRun = config.loop.dryRun;
  // A dry run never competes for the lock or Lease: it would block the real controller and write the lock file.
  const leader = dryRun
    ? new PassiveElector(defaultIdentity())
    : await elector(
        config,
        logger,
        (reason) => {
          // client-go semantics: a lost lease ends the process at once; the supervisor restarts it as a standby.
          metrics.leader.set(0);
          logger.error({ reason }, 'leadership lost: exiting');
          process.exit(EXIT.failed);
        },
        () => onTakeover(),
      );
  // The one door every write goes through: shut for a dry run, open only while this instance leads.
  const door = dryRun ? EffectsDoor.closed('dry-run') : EffectsDoor.whileLeading(() => leader.isLeader());
  const mc = missionControl(config, logger, door, { signal: lifetime.signal });
  const gateway = gatewaySource(config, logger, { sessionChanged: (k) => enqueueSession(k), restarted: () => resyncAll() });
  let bootstrapOnTakeover = false;
  onTakeover = () => {
    if (!bootstrapOnTakeover) return;
    void autoBootstrap(config, logger, mc, door, controller.executor).catch((err: Error) => logger.warn({ err: err.message }, 'bootstrap after takeover failed'));
  };
  let onDegradeTransition: () => void = () => undefined;
  const degrade = await degradeWiring(config, logger, door, { onTransition: () => onDegradeTransition() });
  const { controller } = composeController({ config, logger, mc, gateway, door, degrade, signal: lifetime.signal, metrics: metrics.controllerHooks() });
  onDegradeTransition = () => {
    metrics.degraded.set(degrade.degraded() ? 1 : 0);
    controller.enqueue('global/degrade');
  };
  enqueueSession = (k) => controller.sessionChanged(k);
  resyncAll = () => controller.resyncNow();

  const servers: RunningServer[] = [];
  const startup = new StartupState();
  const startupAbort = new AbortController();
  // Signals are handled from here on, before anything slow (bootstrap, first sync): a SIGTERM during start-up
  // still drains, releases the lease and exits 0 instead of dying with the default handler.
  const drainMs = config.ops.drainSeconds * 1000;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const shutdown = installShutdown({
    deadlineMs: drainMs + SHUTDOWN_TAIL_MS,
    logger,
    exit: (code) => {
      resolveStopped();
      if (code !== 0) process.exit(code);
    },
    steps: [
      { name: 'start-up wait', timeoutMs: STEP_MS, run: () => startupAbort.abort() },
      {
        name: 'drain',
        // the queue gives up at drainMs itself; the margin lets it say so instead of racing the step's timer
        timeoutMs: drainMs + 250,
        run: async () => {
          if (!(await controller.stop(drainMs))) throw new Error(`work still in flight after ${drainMs} ms`);
        },
      },
      {
        name: 'abort in-flight requests',
        timeoutMs: ABORT_SETTLE_MS,
        run: async () => {
          lifetime.abort(new Error('shutting down: drain deadline reached'));
          if (!(await controller.settle(ABORT_SETTLE_MS - 100))) throw new Error('reconciles still unwinding');
        },
      },
      { name: 'degrade monitor', timeoutMs: STEP_MS, run: () => degrade.monitor.stop() },
      { name: 'gateway', timeoutMs: STEP_MS, run: () => gateway?.api.close() },
      { name: 'servers', timeoutMs: STEP_MS, run: () => Promise.all(servers.map((s) => s.close())) },
      // Last: a standby may take over only once nothing of ours is in flight any more.
      { name: 'release leadership', run: () => leader.release() },
    ],
  });
  servers.push(
    await startProbeServer({
      addr: config.ops.probeAddr,
      heartbeat: () => Math.max(controller.heartbeatAt, startup.heartbeatAt),
      maxHeartbeatAgeMs: 60_000,
      startup: () => ({ ok: startup.phase !== 'refused', ...startup.current() }),
      readiness: buildReadiness({
        configValid: () => true,
        sources: [
          {
            name: 'mission-control',
            lastSuccessAt: () => controller.lastSyncAt,
            maxAgeMs: 3 * resyncMs,
            waitingFor: () => (startup.phase === 'running' ? undefined : startup.current().detail),
          },
          ...(gateway ? [{ name: 'gateway', lastSuccessAt: () => gateway.lastSyncAt, maxAgeMs: 3 * resyncMs }] : []),
        ],
        isLeader: () => leader.isLeader(),
        currentLeader: () => leader.currentHolder(),
        // Degraded is a state the controller handles, not a reason to take it out of a Service.
        informational: () => [{ name: 'degrade', ok: true, detail: degrade.degraded() ? 'degraded: load shedding active' : 'normal' }],
      }),
    }),
    await startMetricsServer({ addr: config.ops.metricsAddr, registry: metrics.registry }),
  );
  logger.info({ probes: servers[0]!.url, metrics: servers[1]!.url }, 'probe and metrics servers listening');

  if (gateway) {
    try {
      gateway.onHello(await gateway.api.connect());
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'gateway not reachable yet; retrying in the background');
    }
  }
  if (shutdown.shuttingDown) return stopped;
  await leader.start();
  // Only the leader writes, field definitions included: a standby bootstraps when (if ever) it takes over,
  // and only reads its boards here — which checks the token all the same.
  const bootstraps = config.mc.autoBootstrap && door.isOpen;
  try {
    const answered = await untilMissionControlAnswers({
      attempt: async () => {
        if (bootstraps) await autoBootstrap(config, logger, mc, door, controller.executor);
        else for (const boardId of config.mc.boardIds) await mc.getBoard(boardId);
      },
      state: startup,
      logger,
      signal: startupAbort.signal,
    });
    if (!answered) return stopped;
  } catch (err) {
    if (!(err instanceof StartupRefused)) throw err;
    // release the lock and close the probes before saying why: a supervisor restarting us must find them free
    await shutdown.trigger('start-up refused');
    throw new CliExit(EXIT.failed, err.message);
  }
  bootstrapOnTakeover = true;
  metrics.leader.set(leader.isLeader() ? 1 : 0);
  const leaderGauge = setInterval(() => metrics.leader.set(leader.isLeader() ? 1 : 0), 2_000);
  leaderGauge.unref();
  await degrade.monitor.sampleOnce();
  await degrade.inputs.refresh().catch((err: Error) => logger.warn({ err: err.message }, 'degrade inputs unavailable'));
  metrics.degraded.set(degrade.degraded() ? 1 : 0);
  if (shutdown.shuttingDown) return stopped;
  degrade.monitor.start();
  await controller.start();

  if (!shutdown.shuttingDown)
    logger.info(
      { boards: config.mc.boardIds, dryRun, ...(dryRun ? { writes: 'none: every effect is refused' } : {}), elector: leader.kind, identity: leader.identity },
      'mc-controller running',
    );
  // After the first pass a person watching sees that silence means waiting, not hanging.
  void controller.idle().then(async () => {
    if (shutdown.shuttingDown) return;
    logger.info(waitingLine(config.mc.boardIds.length, controller.nextResyncAt));
    // Between passes, not during one: the load takes the event loop for ~100 ms once.
    if (!dryRun) await warmDiscord(config, logger).catch((err: Error) => logger.warn({ err: err.message }, 'could not load the Discord library ahead of time; it loads at the first post'));
  });
  await stopped;
  clearInterval(leaderGauge);
}

/** `watching 2 boards; next resync in 30 s` */
export function waitingLine(boards: number, nextResyncAt: number | null, now = Date.now()): string {
  const next = nextResyncAt === null ? '' : `; next resync in ${Math.max(0, Math.round((nextResyncAt - now) / 1000))} s`;
  return `watching ${boards} board${boards === 1 ? '' : 's'}${next}`;
}
