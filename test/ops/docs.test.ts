/**
 * The docs name files, env vars, npm scripts and CLI commands; each name must still exist, so a rename or a
 * removal fails here instead of leaving an operator with a command or variable that does nothing.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

function read(rel: string): string {
  return readFileSync(join(ROOT, rel), 'utf8');
}

/** Inline code spans and fenced blocks: where a doc names something literally. */
function codeOf(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
  const prose = markdown.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '');
  const inline = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
  return [...fenced, ...inline];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Every finding as `doc: name`, so a failure lists them all at once. */
function collect(find: (doc: string, text: string) => Iterable<string>): string[] {
  return DOCS.flatMap((doc) => [...new Set(find(doc, read(doc)))].map((name) => `${doc}: ${name}`));
}

const textOf = (dirs: string[], keep: (file: string) => boolean = () => true): string =>
  dirs.flatMap(sourceFiles).filter(keep).map((f) => readFileSync(f, 'utf8')).join('\n');

/** The controller's own code. */
const CONTROLLER = textOf(['src', 'reconcilers'], (f) => !f.endsWith('.test.ts') && !f.includes('/src/sandbox/'));
/** Everything that can read an env var or print a message: the controller, its tests, sandbox and benches. */
const SOURCES = textOf(['src', 'reconcilers', 'test', 'bench']);

/** Kit variables the docs name only to say mc-controller does not read them. */
const KIT_ONLY = ['MC_COST_DAYS_BACK', 'MC_DELIVER_CHANNEL'];

/** A git-ignored path (a test's work folder) is created at run time, so it need not exist in a checkout. */
function gitIgnored(path: string): boolean {
  return spawnSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: ROOT }).status === 0;
}

const REPO_PATH = /(?<![\w./~-])((?:src|reconcilers|test|scripts|manifests|bench|docs)\/[\w./*<>{}-]*[\w/*>}])/g;

function missingPaths(doc: string, text: string): string[] {
  const named = [...text.matchAll(REPO_PATH)]
    .map((m) => m[1]!)
    // a glob or a placeholder names a family of files, not one path
    .filter((p) => !/[*<{]/.test(p));
  const linked = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.replace(/#.*$/, ''))
    .filter((t) => t !== '' && !/^[a-z]+:/i.test(t))
    .map((t) => relative(ROOT, join(ROOT, dirname(doc), t)));
  return [...named, ...linked].filter((p) => !existsSync(join(ROOT, p)) && !gitIgnored(p));
}

const CLI = join(ROOT, 'dist/src/cli/main.js');

/** Command names as the built CLI's `--help` lists them (what an operator can actually type). */
function commandsOf(...path: string[]): string[] {
  const help = execFileSync(process.execPath, [CLI, ...path, '--help'], { encoding: 'utf8' });
  const section = help.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
}

describe('docs name only things that exist', () => {
  it('every repo path and relative link resolves to a file or folder', () => {
    expect(collect(missingPaths)).toEqual([]);
  });

  it('every MC_* variable is read by the controller (src/, reconcilers/) or, for test knobs, by test/ or bench/', () => {
    const known = new Set(SOURCES.match(/\bMC_[A-Z0-9_]*[A-Z0-9]\b/g));
    const missing = collect((_doc, text) =>
      [...text.matchAll(/\bMC_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*])/g)].map((m) => m[0]).filter((v) => !known.has(v) && !KIT_ONLY.includes(v)),
    );
    expect(missing).toEqual([]);
  });

  it('the kit variables the docs call "not read" are really not read', () => {
    for (const name of KIT_ONLY) {
      expect(CONTROLLER.includes(name), `${name} is read now; fix the docs that say it is not`).toBe(false);
      expect(DOCS.some((doc) => read(doc).includes(name)), `${name} is no longer in the docs; drop it from KIT_ONLY`).toBe(true);
    }
  });

  it('every `npm run <script>` is a script in package.json', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const missing = collect((_doc, text) =>
      codeOf(text)
        .flatMap((code) => [...code.matchAll(/\bnpm (?:run(?:-script)?(?: --?[\w-]+)* ([\w:.][\w:.-]*)|(test|start)\b)/g)].map((m) => (m[1] ?? m[2])!))
        .filter((s) => !scripts.includes(s)),
    );
    expect(missing).toEqual([]);
  });

  it('every `mc-controller <command>` is a registered command', () => {
    const top = new Set(commandsOf());
    const subs = new Map<string, string[]>();
    const subcommandsOf = (name: string): string[] => subs.get(name) ?? subs.set(name, commandsOf(name)).get(name)!;
    const missing = collect((_doc, text) =>
      codeOf(text).flatMap((code) =>
        [...code.matchAll(/(?:^|&&|\|\||[;|$]|--|\bnpx|\bsudo)[ \t]*mc-controller((?: [a-z][\w-]*){1,2})/gm)].flatMap((m) => {
          const [first, second] = m[1]!.trim().split(' ') as [string, string | undefined];
          if (!top.has(first)) return SOURCES.includes(`'mc-controller ${first}`) ? [] : [`mc-controller ${first}`];
          if (second === undefined) return [];
          const known = subcommandsOf(first);
          if (known.length > 0 && !known.includes(second)) return [`mc-controller ${first} ${second}`];
          return [];
        }),
      ),
    );
    expect(missing).toEqual([]);
  });
});
