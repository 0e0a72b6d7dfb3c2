import { z } from 'zod';
import { parseListenAddress } from '../clients/probes/address.js';

/**
 * One schema gives the types, the defaults, where each setting may come from (env var, legacy kit file key,
 * CLI flag) and the generated reference in docs/configuration.md. Leaves carry `.meta({ env, file, secret,
 * description })`; the loader walks the shape.
 */

export interface SettingMeta {
  description: string;
  env?: string;
  /** key in the legacy kit file config/mission-control-ids.json */
  file?: string;
  secret?: boolean;
}

const flag = z.preprocess((v) => {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(s)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  }
  return v;
}, z.boolean());

const list = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string().min(1)),
);

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().min(min).max(max);
const httpUrl = z.url({ protocol: /^https?$/ });
const wsUrl = z.url({ protocol: /^wss?$/ });
/** Checked here (exit 2 at start-up) with the parser the servers bind with; `[::1]:8081` is accepted. */
const hostPort = z.string().refine((v) => {
  try {
    parseListenAddress(v);
    return true;
  } catch {
    return false;
  }
}, 'expected host:port with a port 0-65535, e.g. 127.0.0.1:8081 or [::1]:8081');

const m = <T extends z.ZodType>(schema: T, meta: SettingMeta): T => schema.meta({ ...meta }) as T;

export const configSchema = z.object({
  mc: z.object({
    apiUrl: m(httpUrl.optional(), {
      env: 'MC_API_URL',
      file: 'api_url',
      description: 'Mission Control API base including /api/v1. Unset: `run`/`start` use the embedded sandbox.',
    }),
    authToken: m(z.string().min(1).optional(), {
      env: 'MC_AUTH_TOKEN',
      file: 'auth_token',
      secret: true,
      description: 'Local bearer token (LOCAL_AUTH_TOKEN of the board). Keep it in env or the .local.json file.',
    }),
    boardIds: m(list.default([]), {
      env: 'MC_BOARD_ID',
      file: 'board_id',
      description: 'Board id(s) to reconcile; comma-separated for several boards.',
    }),
    publicUrl: m(httpUrl.optional(), {
      env: 'MC_PUBLIC_URL',
      file: 'public_url',
      description: 'Dashboard URL used for links in Discord messages.',
    }),
    gatewayId: m(z.string().optional(), { file: 'gateway_id', description: 'Mission Control gateway id (informational).' }),
    timeoutMs: m(int(100).default(10_000), {
      env: 'MC_HTTP_TIMEOUT_MS',
      description: 'Timeout of each Mission Control request (not of the event streams: see MC_STREAM_CONNECT_TIMEOUT_MS).',
    }),
    streamConnectTimeoutMs: m(int(1_000).default(30_000), {
      env: 'MC_STREAM_CONNECT_TIMEOUT_MS',
      description:
        'How long a task/approval event stream may wait for its response headers. Must exceed Mission Control\'s 15 s stream ping: a buffering proxy holds the headers until the first byte, which on a quiet board is that ping.',
    }),
    autoBootstrap: m(flag.default(true), {
      env: 'MC_AUTO_BOOTSTRAP',
      description: '`run` creates missing controller custom fields at start (same as `bootstrap`).',
    }),
  }),
  agents: m(z.record(z.string(), z.string()).default({}), {
    file: 'agents',
    description: 'Agent name → Mission Control agent UUID (legacy kit format), used by `task create --assignee`.',
  }),
  gateway: z.object({
    url: m(wsUrl.optional(), { env: 'MC_GATEWAY_URL', description: 'OpenClaw gateway WebSocket URL, e.g. ws://127.0.0.1:18789.' }),
    token: m(z.string().min(1).optional(), {
      env: 'MC_GATEWAY_TOKEN',
      secret: true,
      description: 'Gateway shared token (gateway.auth.token).',
    }),
    requestTimeoutMs: m(int(100).default(10_000), { env: 'MC_GATEWAY_TIMEOUT_MS', description: 'Timeout of each gateway request.' }),
    scopes: m(list.default(['operator.read', 'operator.admin']), {
      env: 'MC_GATEWAY_SCOPES',
      description:
        'Operator scopes requested at connect. The gateway lists exec approvals only to operator.admin (or a paired reviewer device); with operator.read alone approval waits are not detected. Approval caps are never advertised either way.',
    }),
  }),
  discord: z.object({
    token: m(z.string().min(1).optional(), { env: 'DISCORD_BOT_TOKEN', secret: true, description: 'Discord bot token (REST only).' }),
    apiUrl: m(httpUrl.default('https://discord.com/api'), {
      env: 'DISCORD_API_URL',
      description: 'Discord API base without the version segment.',
    }),
    channel: m(z.string().optional(), {
      env: 'MC_DISCORD_CHANNEL',
      file: 'notifications_channel',
      description: 'Default channel for every notice.',
    }),
    deliveryChannel: m(z.string().optional(), { env: 'MC_DELIVERY_CHANNEL', description: 'Channel for delivered results.' }),
    approvalsChannel: m(z.string().optional(), { env: 'MC_APPROVALS_CHANNEL', description: 'Channel for approval notices.' }),
    resourceChannel: m(z.string().optional(), { env: 'MC_RESOURCE_CHANNEL', description: 'Channel for degrade-mode notices.' }),
    costChannel: m(z.string().optional(), { env: 'MC_COST_CHANNEL', description: 'Channel for `cost report --post`.' }),
    postDeadlineMs: m(int(1000).default(15_000), { env: 'MC_DISCORD_DEADLINE_MS', description: 'Deadline around each Discord post.' }),
    locale: m(z.enum(['pt-BR', 'en']).default('pt-BR'), {
      env: 'MC_MESSAGE_LOCALE',
      description: "Language of the Discord messages: `pt-BR` (the kit's wording, so existing readers and filters keep working) or `en`.",
    }),
  }),
  loop: z.object({
    dryRun: m(flag.default(false), { env: 'MC_DRY_RUN', description: 'Plan and log actions without applying any.' }),
    resyncSeconds: m(num(1).default(30), { env: 'MC_RESYNC_SECONDS', description: 'Safety-net full resync period (±10 % jitter).' }),
    concurrency: m(int(1, 64).default(4), { env: 'MC_CONCURRENCY', description: 'Keys reconciled in parallel.' }),
    backoffMinMs: m(int(1).default(1_000), { env: 'MC_BACKOFF_MIN_MS', description: 'First retry delay of a failing key.' }),
    backoffMaxMs: m(int(1).default(300_000), { env: 'MC_BACKOFF_MAX_MS', description: 'Retry delay cap of a failing key.' }),
    stateDir: m(z.string().min(1), {
      env: 'MC_STATE_DIR',
      description:
        'Folder for the controller\'s local state (lock file, global ledger), made absolute. Default: `$STATE_DIRECTORY` under systemd, `/var/lib/mc-controller` as root, else `$XDG_STATE_HOME/mc-controller` (`~/.local/state/mc-controller`) — never relative to the working directory, so every `run` on a host shares one lock.',
    }),
    logLevel: m(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'), {
      env: 'MC_LOG_LEVEL',
      description: 'Log level.',
    }),
    logFormat: m(z.enum(['auto', 'json', 'pretty']).default('auto'), {
      env: 'MC_LOG_FORMAT',
      description:
        '`auto`: one readable line per event and progress of long passes when stderr is a terminal, JSON lines otherwise; `json` / `pretty` force one.',
    }),
  }),
  watchdog: z.object({
    stalledMinutes: m(num(1).default(60), { env: 'MC_STALLED_MINUTES', description: 'Inactivity after which a running session is stalled.' }),
    maxRetries: m(int(0).default(2), { env: 'MC_MAX_RETRIES', description: 'Retry bookkeeping before a dead session needs approval.' }),
    missingKeyGraceMinutes: m(num(0).default(10), {
      env: 'MC_MISSING_KEY_GRACE_MINUTES',
      description: 'Time an in_progress task may go without mc_session_key.',
    }),
    scope: m(z.enum(['linked', 'all']).default('linked'), {
      env: 'MC_WATCHDOG_SCOPE',
      description: '`linked`: tasks with a session key or created through our flow; `all`: every active task, like the kit.',
    }),
    sessionMissingGraceSeconds: m(num(0).default(120), {
      env: 'MC_SESSION_MISSING_GRACE_SECONDS',
      description: 'After a gateway start, no session is declared missing before this.',
    }),
    retryIntervalSeconds: m(num(0).default(300), {
      env: 'MC_RETRY_INTERVAL_SECONDS',
      description: 'Time between two recovery attempts counted for a lost session (a new session may be linked meanwhile).',
    }),
    doneOnSessionEnd: m(flag.default(false), {
      env: 'MC_DONE_ON_SESSION_END',
      description: 'Move a task to done (not review) when its session finished, where the board allows it.',
    }),
    linkLookbackMinutes: m(num(0).default(60), {
      env: 'MC_SESSION_LINK_LOOKBACK_MINUTES',
      description: 'Sessions created this recently are read (first message) to auto-link an unlinked task that they name.',
    }),
  }),
  delivery: z.object({
    backlog: m(z.enum(['skip', 'deliver']).default('skip'), {
      env: 'MC_DELIVERY_BACKLOG',
      description: '`skip`: done tasks older than the first run are marked, not posted.',
    }),
    maxPerPass: m(int(1).default(50), { env: 'MC_DELIVERY_MAX_PER_PASS', description: 'Most deliveries posted per pass.' }),
  }),
  degrade: z.object({
    hostRoot: m(z.string().default('/'), { env: 'MC_HOST_ROOT', description: 'Root under which /proc and /sys are read.' }),
    warnPct: m(num(1, 100).default(80), { env: 'MC_RESOURCE_WARN_PCT', description: 'Used-memory % logged as a warning.' }),
    degradePct: m(num(1, 100).default(90), { env: 'MC_RESOURCE_DEGRADE_PCT', description: 'Used-memory % that enters degrade mode.' }),
    recoverPct: m(num(1, 100).default(85), { env: 'MC_RESOURCE_RECOVER_PCT', description: 'Used-memory % under which degrade may end.' }),
    enterDwellSeconds: m(num(0).default(10), { env: 'MC_DEGRADE_ENTER_DWELL_SECONDS', description: 'Sustained breach before entering.' }),
    exitDwellSeconds: m(num(0).default(60), { env: 'MC_DEGRADE_EXIT_DWELL_SECONDS', description: 'Continuous all-clear before leaving.' }),
    minDegradedSeconds: m(num(0).default(120), { env: 'MC_DEGRADE_MIN_SECONDS', description: 'Minimum time in degrade mode.' }),
    flapGuardSeconds: m(num(0).default(300), { env: 'MC_DEGRADE_FLAP_SECONDS', description: 'Clean time required after a flap.' }),
    stateFile: m(z.string().optional(), {
      env: 'MC_RESOURCE_STATE_FILE',
      description: 'Kit-compatible state file (`mode: normal|degrade`); default `<MC_STATE_DIR>/resource-state.json`.',
    }),
    kill: m(flag.default(false), { env: 'MC_RESOURCE_MONITOR_KILL', description: 'Enable the kill allowlist (off by default).' }),
    killAllowlist: m(list.default([]), { env: 'MC_RESOURCE_KILL_ALLOWLIST', description: 'Command/executable patterns that may be killed.' }),
    scaleSelector: m(z.string().optional(), {
      env: 'MC_DEGRADE_SCALE_SELECTOR',
      description: 'Label selector of workloads scaled down while degraded.',
    }),
    scaleNames: m(list.default([]), { env: 'MC_DEGRADE_SCALE_NAMES', description: 'Kind/name of workloads scaled down while degraded.' }),
    scaleNamespace: m(z.string().optional(), {
      env: 'MC_DEGRADE_SCALE_NAMESPACE',
      description: "Namespace of the scaled workloads (default: the controller's own).",
    }),
    killPct: m(num(1, 100).default(95), { env: 'MC_RESOURCE_KILL_PCT', description: 'Used-memory % at which the kill allowlist may act.' }),
    killCooldownSeconds: m(num(0).default(3600), { env: 'MC_RESOURCE_KILL_COOLDOWN_SECONDS', description: 'At most one kill round per cooldown.' }),
    killGraceSeconds: m(num(0).default(10), { env: 'MC_RESOURCE_KILL_GRACE_SECONDS', description: 'SIGTERM → SIGKILL grace period.' }),
    scaleReplicas: m(int(0).default(0), { env: 'MC_DEGRADE_SCALE_REPLICAS', description: 'Replicas of scaled workloads while degraded.' }),
    nodeName: m(z.string().optional(), { env: 'MC_NODE_NAME', description: 'Kubernetes node whose MemoryPressure condition is read.' }),
    pausedConcerns: m(list.default(['cost']), {
      env: 'MC_DEGRADE_PAUSE',
      description: 'Reconcilers whose actions wait while degraded.',
    }),
  }),
  ops: z.object({
    probeAddr: m(hostPort.default('127.0.0.1:8081'), { env: 'MC_PROBE_ADDR', description: '/healthz and /readyz bind address.' }),
    metricsAddr: m(hostPort.default('127.0.0.1:8080'), { env: 'MC_METRICS_ADDR', description: '/metrics bind address.' }),
    lockFile: m(z.string().optional(), {
      env: 'MC_LOCK_FILE',
      description: 'Exclusive lock outside Kubernetes (default: <stateDir>/controller.lock).',
    }),
    leaderElection: m(z.enum(['auto', 'lease', 'lockfile', 'none']).default('auto'), {
      env: 'MC_LEADER_ELECTION',
      description: '`auto`: a Lease in Kubernetes, a lock file elsewhere; `none` only for a single supervised instance.',
    }),
    leaseName: m(z.string().default('mc-controller'), { env: 'MC_LEASE_NAME', description: 'Lease used for leader election in Kubernetes.' }),
    leaseNamespace: m(z.string().optional(), { env: 'MC_LEASE_NAMESPACE', description: 'Namespace of the Lease (default: the pod\'s).' }),
    leaseDurationSeconds: m(num(1).default(15), { env: 'MC_LEASE_DURATION_SECONDS', description: 'Lease duration.' }),
    renewDeadlineSeconds: m(num(1).default(10), { env: 'MC_RENEW_DEADLINE_SECONDS', description: 'Renew deadline.' }),
    retryPeriodSeconds: m(num(0.1).default(2), { env: 'MC_RETRY_PERIOD_SECONDS', description: 'Retry period.' }),
    drainSeconds: m(num(0).default(20), { env: 'MC_DRAIN_SECONDS', description: 'Graceful-shutdown drain limit.' }),
  }),
});

export type Config = z.infer<typeof configSchema>;
