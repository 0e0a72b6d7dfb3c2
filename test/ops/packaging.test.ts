import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMetrics, METRIC_NAMES } from '../../src/runtime/metrics.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (...p: string[]) => readFileSync(join(ROOT, ...p), 'utf8');

/** systemd unit files: [Section] headers, Key=Value lines, repeated keys allowed, # and ; comments. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    if (!kv || !current) throw new Error(`not a unit-file line: ${raw}`);
    current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!]);
  }
  return sections;
}

const seconds = (value: string): number => {
  const m = /^(\d+)(s|min)?$/.exec(value);
  if (!m) throw new Error(`unparsed time span ${value}`);
  return Number(m[1]) * (m[2] === 'min' ? 60 : 1);
};

const DRAIN_SECONDS = 20;

describe('systemd units', () => {
  const service = parseUnit(read('manifests/systemd/mc-controller.service'));
  const once = parseUnit(read('manifests/systemd/mc-controller-once.service'));
  const timer = parseUnit(read('manifests/systemd/mc-controller-once.timer'));
  const get = (unit: typeof service, section: string, key: string) => unit.get(section)?.get(key);

  it('runs `run` with restart on failure, secrets from an EnvironmentFile, and a stop timeout above the drain', () => {
    expect(get(service, 'Service', 'ExecStart')?.[0]).toMatch(/dist\/src\/cli\/main\.js run$/);
    expect(get(service, 'Service', 'Restart')).toEqual(['on-failure']);
    expect(get(service, 'Service', 'EnvironmentFile')?.[0]).toMatch(/^\/etc\/mc-controller\//);
    expect(get(service, 'Service', 'KillSignal')).toEqual(['SIGTERM']);
    expect(seconds(get(service, 'Service', 'TimeoutStopSec')![0]!)).toBeGreaterThan(DRAIN_SECONDS);
    expect(get(service, 'Install', 'WantedBy')).toEqual(['multi-user.target']);
  });

  it.each([
    ['mc-controller.service', service],
    ['mc-controller-once.service', once],
  ])('%s is hardened and writes only its state directory', (_name, unit) => {
    expect(get(unit, 'Service', 'NoNewPrivileges')).toEqual(['yes']);
    expect(get(unit, 'Service', 'ProtectSystem')).toEqual(['strict']);
    expect(get(unit, 'Service', 'ReadWritePaths')).toEqual(['/var/lib/mc-controller']);
    expect(get(unit, 'Service', 'User')?.[0]).not.toBe('root');
    const env = get(unit, 'Service', 'Environment') ?? [];
    expect(env).toContain('MC_STATE_DIR=/var/lib/mc-controller');
    expect(env.find((e) => e.startsWith('MC_LOCK_FILE='))).toMatch(/^MC_LOCK_FILE=\/var\/lib\/mc-controller\//);
    // Tokens only through the EnvironmentFile, never inline.
    expect(env.some((e) => /TOKEN/.test(e))).toBe(false);
  });

  it('shares one lock file between `run` and `once`, and the timer starts `once`', () => {
    const lock = (u: typeof service) => get(u, 'Service', 'Environment')?.find((e) => e.startsWith('MC_LOCK_FILE='));
    expect(lock(once)).toBe(lock(service));
    expect(get(once, 'Service', 'Type')).toEqual(['oneshot']);
    expect(get(once, 'Service', 'ExecStart')?.[0]).toMatch(/main\.js once$/);
    expect(get(timer, 'Timer', 'Unit')).toEqual(['mc-controller-once.service']);
    expect(get(timer, 'Install', 'WantedBy')).toEqual(['timers.target']);
    expect([...(timer.get('Timer')?.keys() ?? [])].some((k) => k.startsWith('On'))).toBe(true);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const lines = dockerfile.split('\n').map((l) => l.trim());
  const froms = lines.filter((l) => l.startsWith('FROM '));

  it('is multi-stage on node:24-bookworm-slim with production dependencies only at runtime', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    // Every stage starts from BASE_IMAGE, the official image unless scripts/image-base.sh supplies a local one.
    expect(lines).toContain('ARG BASE_IMAGE=node:24-bookworm-slim');
    for (const from of froms) expect(from).toMatch(/^FROM \$\{BASE_IMAGE\}( AS \w+)?$/);
    const runtimeStart = lines.indexOf(froms.at(-1)!);
    const runtime = lines.slice(runtimeStart);
    expect(runtime.some((l) => /^RUN .*\bnpm ci --omit=dev\b/.test(l))).toBe(true);
    expect(runtime.some((l) => /^COPY --from=\w+ \/app\/dist/.test(l))).toBe(true);
    expect(lines.slice(0, runtimeStart).some((l) => /npm run build/.test(l))).toBe(true);
  });

  it('runs as a numeric non-root user with a node-based HEALTHCHECK on /healthz', () => {
    const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*(:\d+)?$/);
    const health = dockerfile.slice(dockerfile.indexOf('HEALTHCHECK'));
    expect(health).toMatch(/CMD \["node", "-e"/);
    expect(health).toContain('/healthz');
    const instructions = lines.filter((l) => !l.startsWith('#')).join('\n');
    expect(instructions).not.toMatch(/\bcurl\b|\bwget\b/);
  });

  it('has the CLI entrypoint and `run` as the default command', () => {
    expect(lines).toContain('ENTRYPOINT ["node", "dist/src/cli/main.js"]');
    expect(lines).toContain('CMD ["run"]');
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.bin['mc-controller']).toBe('dist/src/cli/main.js');
  });

  it('bakes in no secrets, and .dockerignore keeps local files out of the context', () => {
    expect(dockerfile).not.toMatch(/^(ENV|ARG)\s+\S*(TOKEN|SECRET|PASSWORD)/im);
    const ignore = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['.git', 'node_modules', 'dist', '**/*.local.json', '.mc-controller']) expect(ignore).toContain(entry);
  });

  it('ships every package the compiled code imports as a production dependency', () => {
    const pkg = JSON.parse(read('package.json'));
    const prod = new Set(Object.keys(pkg.dependencies));
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
      });
    const missing = new Set<string>();
    for (const file of [...walk(join(ROOT, 'src')), ...walk(join(ROOT, 'reconcilers'))]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^'.][^']*)'/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || m[0].trimStart().startsWith('import type') || m[0].trimStart().startsWith('export type')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!prod.has(name)) missing.add(`${name} (${file.slice(ROOT.length + 1)})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(read('manifests/grafana/mc-controller-dashboard.json'));
  const exprs: string[] = dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr as string));

  it('queries only metrics the controller exports', async () => {
    const metrics = createMetrics();
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    const promqlWords = new Set(['sum', 'by', 'rate', 'max', 'min', 'time', 'histogram_quantile', 'le', 'pod', 'reconciler', 'result',
      'error_class', 'action', 'outcome', 'source', 'downstream', 'namespace']);
    const used = new Set<string>();
    for (const expr of exprs) {
      const withoutStrings = expr.replace(/"[^"]*"/g, '""').replace(/\[[^\]]*\]/g, '');
      for (const [word] of withoutStrings.matchAll(/\b[a-z_][a-z0-9_]*\b/g)) {
        if (!promqlWords.has(word)) used.add(word.replace(/_(bucket|sum|count)$/, ''));
      }
    }
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(exported.has(name), `${name} is not exported by createMetrics()`).toBe(true);
  });

  it('covers every mc_* metric and has unique panel ids', () => {
    for (const name of METRIC_NAMES) expect(exprs.some((e) => e.includes(name)), name).toBe(true);
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(dashboard.uid).toBe('mc-controller');
  });
});
