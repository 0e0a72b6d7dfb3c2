import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { configSchema, type Config } from './schema.js';
import { defaultOf, getPath, setPath, settings, type Setting } from './settings.js';
import { absoluteStateDir, defaultStateDir } from './state-dir.js';
import { isCatchAllKillPattern, splitKillAllowlist } from '../model/kill-pattern.js';

/** Invalid configuration: every problem, one line each, for exit code 2. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Source = 'default' | 'file' | 'local file' | 'environment' | 'flag';
/** `unset`: an optional setting nobody gave a value (`config --print` still lists it). */
export type PrintedSource = Source | 'unset';

export interface LoadedConfig {
  config: Config;
  /** where each dotted path got its value */
  sources: Record<string, Source>;
  files: string[];
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** dotted path → value, from CLI flags */
  flags?: Record<string, unknown>;
  /** dotted path → the flag that set it (`--log-level`), so a problem names what the operator typed */
  flagNames?: Record<string, string>;
  /** the config file was named explicitly (`--config`, MC_CONFIG_PATH): its absence is an error */
  configRequired?: boolean;
}

/** upstream's SSE keep-alive interval (mission-control-api.md): the first byte of a quiet stream */
const MC_STREAM_PING_MS = 15_000;

/**
 * The kit's placeholders, matched against the WHOLE value: `REPLACE_ME_LOCAL_AUTH_TOKEN`, `changeme`,
 * `replace-with-strong-random-token`, `your_token_here`, `<TOKEN>`, `xxxx`, `****`. Words only (letters joined by
 * `-`, `_` or spaces): a real token that merely starts with `x`, `your_` or `changeme` has digits or mixed runs.
 */
const WORDS = '(?:[-_ ][a-z]+)*';
const PLACEHOLDER = new RegExp(`^(?:(?:replace|change)[-_ ]?me${WORDS}|replace[-_ ]with${WORDS}|your${WORDS}|<[^<>]*>|x+|\\*+)$`, 'i');

/** A value that would authenticate somewhere: long enough and not one of the kit's placeholders. */
export function looksLikeRealSecret(value: unknown): boolean {
  return typeof value === 'string' && value.trim().length >= 20 && !PLACEHOLDER.test(value.trim());
}

/** A file that cannot be read is reported as such (missing, a directory, no permission), never as bad JSON. */
function readJson(path: string, problems: string[], required: boolean): Record<string, unknown> | undefined {
  let text: string;
  try {
    if (statSync(path).isDirectory()) {
      problems.push(`${path}: is a directory (EISDIR), expected the kit's JSON file`);
      return undefined;
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return undefined;
    problems.push(
      code === 'ENOENT'
        ? `${path}: no such file (ENOENT); check --config / MC_CONFIG_PATH`
        : `${path}: cannot be read (${code ?? 'error'}${code === 'EACCES' ? ': permission denied' : ''})`,
    );
    return undefined;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    problems.push(`${path}: expected a JSON object`);
  } catch (err) {
    // The parser's message quotes the text around the error, which may be a token: report the position only.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    problems.push(`${path}: not valid JSON${at ? ` (near character ${at})` : ''}`);
  }
  return undefined;
}

export function configPaths(env: NodeJS.ProcessEnv, cwd: string): { versioned: string; local: string } {
  const versioned = resolve(cwd, env.MC_CONFIG_PATH ?? 'config/mission-control-ids.json');
  const local = versioned.endsWith('.local.json') ? versioned : versioned.replace(/(\.json)?$/, '.local.json');
  return { versioned, local };
}

/**
 * Precedence: defaults < legacy kit file < its .local.json overlay < environment < CLI flags.
 * Placeholder secrets in files count as unset. A real-looking secret in the versioned file is refused.
 */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const files: string[] = [];
  const { versioned, local } = configPaths(env, cwd);
  const versionedJson = readJson(versioned, problems, opts.configRequired ?? false);
  const localJson = versioned === local ? undefined : readJson(local, problems, false);
  if (versionedJson) files.push(versioned);
  if (localJson) files.push(local);

  const put = (s: Setting, value: unknown, source: Source) => {
    setPath(raw, s.path, value);
    sources[s.path.join('.')] = source;
  };

  // Every section exists, so a section with no value set still gets its defaults.
  for (const s of settings()) if (s.path.length > 1) setPath(raw, s.path.slice(0, -1), getPath(raw, s.path.slice(0, -1)) ?? {});
  for (const s of settings()) {
    const fileKey = s.meta.file;
    for (const [json, source, path] of [
      [versionedJson, 'file', versioned],
      [localJson, 'local file', local],
    ] as const) {
      if (!json || !fileKey || json[fileKey] === undefined || json[fileKey] === null || json[fileKey] === '') continue;
      const value = json[fileKey];
      if (s.meta.secret && !looksLikeRealSecret(value)) continue;
      if (s.meta.secret && source === 'file') {
        problems.push(
          `${path}: "${fileKey}" holds what looks like a real secret in a versioned file; move it to ${local} (git-ignored) or ${s.meta.env}`,
        );
        continue;
      }
      put(s, value, source);
    }
    const envName = s.meta.env;
    if (envName && env[envName] !== undefined && env[envName] !== '') put(s, env[envName], 'environment');
    const flagValue = opts.flags?.[s.path.join('.')];
    if (flagValue !== undefined) put(s, flagValue, 'flag');
  }

  const stateDir = getPath(raw, ['loop', 'stateDir']);
  setPath(raw, ['loop', 'stateDir'], typeof stateDir === 'string' && stateDir.trim() ? absoluteStateDir(stateDir.trim(), cwd) : (stateDir ?? defaultStateDir(env)));
  const parsed = configSchema.safeParse(raw);
  const invalid = new Set<string>();
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const leaf = settings().find((s) => issue.path.slice(0, s.path.length).join('.') === s.path.join('.'));
      const dotted = leaf?.path.join('.') ?? issue.path.join('.');
      invalid.add(dotted);
      const source = sources[dotted] ?? 'default';
      const where =
        source === 'environment' && leaf?.meta.env
          ? leaf.meta.env
          : source.endsWith('file') && leaf?.meta.file
            ? `${leaf.meta.file} in ${source === 'file' ? versioned : local}`
            : source === 'flag'
              ? (opts.flagNames?.[dotted] ?? `--${dotted}`)
              : dotted;
      // Only a leaf's own value is echoed, never a secret and never a whole section.
      const value = leaf && !leaf.meta.secret ? getPath(raw, leaf.path) : undefined;
      const shown = value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
      problems.push(`${where}: ${issue.message}${shown}`);
    }
  }
  // Cross-field problems are listed with the schema ones, so one round of fixes is enough; a rule that reads
  // an invalid setting waits until that setting is valid (it would only repeat the same problem).
  const config = parsed.success ? parsed.data : validLeaves(raw);
  for (const check of crossChecks(config)) if (!check.paths.some((p) => invalid.has(p))) problems.push(check.problem);
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return { config, sources, files };
}

/** Every leaf that parses on its own, the default (or unset) for the others: enough for the cross checks. */
function validLeaves(raw: Record<string, unknown>): Config {
  const out: Record<string, unknown> = {};
  for (const s of settings()) {
    const r = s.schema.safeParse(getPath(raw, s.path));
    setPath(out, s.path, r.success ? r.data : defaultOf(s));
  }
  return out as unknown as Config;
}

interface CrossCheck {
  /** the settings the rule reads */
  paths: string[];
  problem: string;
}

function crossChecks(c: Config): CrossCheck[] {
  const out: CrossCheck[] = [];
  const check = (paths: string[], failed: boolean, problem: string) => {
    if (failed) out.push({ paths, problem });
  };
  if (c.mc.apiUrl) {
    check(['mc.apiUrl', 'mc.authToken'], !c.mc.authToken, 'MC_AUTH_TOKEN: required when MC_API_URL is set (or auth_token in the .local.json file)');
    check(['mc.apiUrl', 'mc.boardIds'], c.mc.boardIds.length === 0, 'MC_BOARD_ID: required when MC_API_URL is set (comma-separated for several boards)');
  }
  check(['gateway.url', 'gateway.token'], Boolean(c.gateway.url && !c.gateway.token), 'MC_GATEWAY_TOKEN: required when MC_GATEWAY_URL is set');
  check(
    ['degrade.recoverPct', 'degrade.degradePct'],
    c.degrade.recoverPct >= c.degrade.degradePct,
    'MC_RESOURCE_RECOVER_PCT: must be below MC_RESOURCE_DEGRADE_PCT, or degrade mode could never end',
  );
  const { leaseDurationSeconds: lease, renewDeadlineSeconds: renew, retryPeriodSeconds: retry } = c.ops;
  check(
    ['ops.leaseDurationSeconds', 'ops.renewDeadlineSeconds', 'ops.retryPeriodSeconds'],
    !(lease > renew && renew > 1.2 * retry),
    `leader election: need lease (${lease}s) > renew deadline (${renew}s) > 1.2 × retry period (${retry}s)`,
  );
  check(
    ['mc.streamConnectTimeoutMs'],
    c.mc.streamConnectTimeoutMs <= MC_STREAM_PING_MS,
    `MC_STREAM_CONNECT_TIMEOUT_MS: must exceed ${MC_STREAM_PING_MS} ms, Mission Control's stream ping interval, or a quiet board behind a buffering proxy reconnects forever`,
  );
  for (const pattern of c.degrade.killAllowlist.flatMap(splitKillAllowlist).filter(isCatchAllKillPattern))
    check(['degrade.killAllowlist'], true, `MC_RESOURCE_KILL_ALLOWLIST: "${pattern}" would match every process; name the command or executable (e.g. /tmp/puppeteer*)`);
  check(['loop.backoffMinMs', 'loop.backoffMaxMs'], c.loop.backoffMinMs > c.loop.backoffMaxMs, 'MC_BACKOFF_MIN_MS: must not exceed MC_BACKOFF_MAX_MS');
  return out;
}

/** The effective config with every secret replaced, and credentials inside URLs too, for `config --print`. */
export function redactedConfig(loaded: LoadedConfig): Record<string, unknown> {
  const out = structuredClone(loaded.config) as unknown as Record<string, unknown>;
  for (const s of settings()) {
    const value = getPath(out, s.path);
    if (s.meta.secret && value !== undefined) setPath(out, s.path, '[redacted]');
    else if (typeof value === 'string') setPath(out, s.path, redactUrlCredentials(value));
  }
  return out;
}

// scheme://user[:password]@ — the userinfo part of any URL in a text
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

/** `http://user:TOKEN@host/…` → `http://[redacted]@host/…`, wherever a URL appears in the text. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1[redacted]@');
}

/** Where every setting's value came from, defaults and unset optional ones included (`config --print`). */
export function allSources(loaded: LoadedConfig): Record<string, PrintedSource> {
  const out: Record<string, PrintedSource> = {};
  for (const s of settings()) {
    const dotted = s.path.join('.');
    out[dotted] = loaded.sources[dotted] ?? (getPath(loaded.config as unknown as Record<string, unknown>, s.path) === undefined ? 'unset' : 'default');
  }
  return out;
}
