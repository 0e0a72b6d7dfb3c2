import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort, waitHttpOk } from '../integration/harness/child.js';
import { controllerEnv, startRun, stateDir, type RunningController } from '../integration/harness/controller-provider.js';
import { startSandboxDep, type SandboxDep } from '../integration/harness/sandbox-provider.js';
import { renderKustomization, REPO, type Doc } from '../support/manifests.js';
import { tool } from '../support/tools.js';

/**
 * The metrics, the dashboard and the alert rules against Debian's Prometheus: a real server scrapes a running
 * controller (with the labels the ServiceMonitor adds), loads the rule file, and answers every dashboard
 * expression through its HTTP API.
 */

const HINT = 'apt-get install prometheus (Debian; ships promtool)';
const prometheus = tool('prometheus', HINT);
const promtool = tool('promtool', HINT);
const kubectl = tool('kubectl', 'kubectl (its built-in kustomize renders the manifests)', ['version', '--client']);

const RULES = join(REPO, 'manifests', 'prometheus', 'mc-controller.rules.yaml');
const RULE_TESTS = join(REPO, 'manifests', 'prometheus', 'mc-controller.rules.test.yaml');
const GRAFANA = join(REPO, 'manifests', 'grafana');
const DASHBOARDS = readdirSync(GRAFANA).filter((f) => f.endsWith('.json')).map((f) => ({ file: f, ...JSON.parse(readFileSync(join(GRAFANA, f), 'utf8')) }));
/** What the ServiceMonitor's target labels would be in the cluster; the dashboard filters on them. */
const TARGET_LABELS = { namespace: 'mc-controller', pod: 'mc-controller-0', job: 'mc-controller-metrics' };
const SCRAPE_SECONDS = 1;
/** Grafana's $__rate_interval is at least four scrape intervals. */
const RATE_INTERVAL = `${4 * SCRAPE_SECONDS * 3}s`;
/** Expressions a healthy controller legitimately leaves empty: no reconcile pass has failed. */
const EMPTY_WHEN_HEALTHY = [/mc_reconcile_errors_total/];

const promtoolRun = (args: string[]) => spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });

describe.skipIf(promtool.skip)('alert rules (promtool)', () => {
  it('are valid and pass their unit tests', () => {
    promtool.require();
    const check = promtoolRun(['check', 'rules', RULES]);
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const tests = promtoolRun(['test', 'rules', RULE_TESTS]);
    expect(tests.status, tests.stdout + tests.stderr).toBe(0);
  });

  it('cover controller down, sync stale, reconcile errors, degraded, Discord failing and lease lost', () => {
    const names = (parse(readFileSync(RULES, 'utf8')) as Doc).groups.flatMap((g: Doc) => g.rules.map((r: Doc) => r.alert));
    for (const alert of ['McControllerDown', 'McControllerSyncStale', 'McControllerReconcileErrorsRising',
      'McControllerDegradedTooLong', 'McControllerDiscordFailing', 'McControllerNoLeader']) expect(names).toContain(alert);
    // Every alert has a unit test that expects it to fire.
    const fired = readFileSync(RULE_TESTS, 'utf8');
    for (const alert of names) expect(fired, alert).toMatch(new RegExp(`alertname: ${alert}\\n\\s+eval_time: \\S+\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });
});

describe.skipIf(kubectl.skip)('the Prometheus-Operator overlay', () => {
  it('ships the rule file\'s groups unchanged as a PrometheusRule', () => {
    kubectl.require();
    const rule = renderKustomization('manifests/overlays/prometheus').find((o) => o.kind === 'PrometheusRule');
    expect(rule?.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(rule?.metadata.namespace).toBe('mc-controller');
    expect(rule?.spec.groups).toEqual((parse(readFileSync(RULES, 'utf8')) as Doc).groups);
  });
});

describe.skipIf(prometheus.skip || promtool.skip)('a real Prometheus scraping a running controller', () => {
  let sandbox: SandboxDep;
  let controller: RunningController;
  let server: ChildProcess | undefined;
  let api: string;
  let metricsText: string;
  const state = stateDir('mc-prom-');
  const work = mkdtempSync(join(tmpdir(), 'mc-prometheus-'));

  const query = async (expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> => {
    const r = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  };

  beforeAll(async () => {
    prometheus.require();
    promtool.require();
    sandbox = await startSandboxDep({ seed: 'demo' });
    const metricsPort = await freePort();
    controller = await startRun(controllerEnv(sandbox.info, state.path, { MC_METRICS_ADDR: `127.0.0.1:${metricsPort}`, MC_AUTO_BOOTSTRAP: 'true' }), { waitReady: true });
    metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

    const webPort = await freePort();
    api = `http://127.0.0.1:${webPort}`;
    const config = {
      global: { scrape_interval: `${SCRAPE_SECONDS}s`, evaluation_interval: `${SCRAPE_SECONDS}s` },
      rule_files: [RULES],
      scrape_configs: [{ job_name: TARGET_LABELS.job, static_configs: [{ targets: [`127.0.0.1:${metricsPort}`],
        labels: { namespace: TARGET_LABELS.namespace, pod: TARGET_LABELS.pod } }] }],
    };
    writeFileSync(join(work, 'prometheus.yml'), JSON.stringify(config));
    server = spawn('prometheus', [`--config.file=${join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${join(work, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    server.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    await waitHttpOk(`${api}/-/ready`, { timeoutMs: 60_000, alive: () => server!.exitCode === null, describe: () => log });
    // Enough samples for every rate() window: poll until the slowest series has RATE_INTERVAL of history.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const r = await query(`count_over_time(up{job="${TARGET_LABELS.job}"}[${RATE_INTERVAL}])`);
      const n = Number((r.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
      if (n >= 4 * 3) break;
      if (Date.now() > deadline) throw new Error(`Prometheus has not scraped the controller: ${JSON.stringify(r)}\n${log}`);
      await new Promise((res) => setTimeout(res, 500));
    }
  }, 180_000);

  afterAll(async () => {
    server?.kill('SIGTERM');
    if (server && server.exitCode === null) await new Promise((r) => server!.once('exit', r));
    await controller?.stop();
    await sandbox?.stop();
    state.remove();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it('scrapes the target as up and loads every alert rule in a healthy state', async () => {
    const up = await query(`up{job="${TARGET_LABELS.job}"}`);
    expect(up.data?.result).toEqual([expect.objectContaining({ value: [expect.any(Number), '1'] })]);
    const rules = (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: Array<{ rules: Doc[] }> } };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded.length).toBe((parse(readFileSync(RULES, 'utf8')) as Doc).groups[0].rules.length);
    for (const r of loaded) expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
    // A healthy controller with a leader trips none of them.
    expect(loaded.filter((r) => r.state !== 'inactive').map((r) => r.name)).toEqual([]);
  });

  it.each(DASHBOARDS.map((d) => [d.file, d] as const))('answers every expression of %s (variables substituted): all valid, data for all but the error panels', async (_file, dashboard) => {
    const substitute = (expr: string) => expr.replaceAll('$namespace', TARGET_LABELS.namespace).replaceAll('$__rate_interval', RATE_INTERVAL);
    const exprs: string[] = dashboard.panels.flatMap((p: Doc) => (p.targets ?? []).map((t: Doc) => t.expr as string));
    expect(exprs.length).toBeGreaterThan(10);
    const empty: string[] = [];
    for (const expr of exprs) {
      const r = await query(substitute(expr));
      expect(r.status, `${expr}: ${r.error}`).toBe('success');
      if (r.data!.result.length === 0) empty.push(expr);
    }
    console.log(`[prometheus] ${exprs.length} dashboard expressions, ${exprs.length - empty.length} with data; empty: ${empty.join(' | ') || 'none'}`);
    for (const expr of empty) expect(EMPTY_WHEN_HEALTHY.some((re) => re.test(expr)), `no data for ${expr}`).toBe(true);
    // The namespace variable's own query.
    const ns = dashboard.templating.list.find((v: Doc) => v.name === 'namespace');
    const metric = /label_values\((\w+), namespace\)/.exec(ns.query.query)![1]!;
    const values = (await (await fetch(`${api}/api/v1/label/namespace/values?match[]=${metric}`)).json()) as { data: string[] };
    expect(values.data).toContain(TARGET_LABELS.namespace);
  });

  it('exposes metric families whose own (mc_*) names pass `promtool check metrics`', () => {
    const ours = metricsText.split('\n\n').filter((family) => /^# HELP mc_/.test(family)).join('\n\n');
    expect(ours).toMatch(/# TYPE mc_reconcile_total counter/);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: `${ours}\n`, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect((r.stdout + r.stderr).trim()).toBe('');
  });
});
