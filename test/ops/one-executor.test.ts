/**
 * "One executor applies actions" (docs/architecture.md), checked on the source: every write method of our
 * clients is used only by the executor (src/runtime/executor.ts) and the effect handlers (src/runtime/effects/).
 * The TypeScript checker resolves each `x.method` to the member it names, so `post` or `write` on an unrelated
 * object does not count, and a wrapper that implements a client interface does. Node's `process.kill` counts too,
 * but for signal 0 (it only asks whether a pid exists).
 */
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const MC_WRITES = ['createTask', 'updateTask', 'createComment', 'createFieldDefinition', 'updateFieldDefinition', 'createApproval', 'updateApproval'];

/** The write members, by the class or interface that declares them (file relative to the repository). */
const WRITES: { file: string; owner: string; members: string[] }[] = [
  { file: 'src/clients/mission-control/api.ts', owner: 'MissionControlApi', members: MC_WRITES },
  { file: 'src/clients/mission-control/client.ts', owner: 'MissionControlClient', members: MC_WRITES },
  { file: 'src/clients/discord/api.ts', owner: 'DiscordApi', members: ['post'] },
  { file: 'src/clients/discord/client.ts', owner: 'DiscordClient', members: ['post'] },
  { file: 'src/clients/kubernetes/scale.ts', owner: 'KubernetesScaler', members: ['scaleDown', 'restore'] },
  { file: 'src/clients/state/json-file.ts', owner: 'StateFile', members: ['write'] },
  { file: 'src/clients/state/json-file.ts', owner: 'JsonStateFile', members: ['write'] },
  // the controller's state.json, on top of the state client
  { file: 'src/runtime/global-state.ts', owner: 'GlobalStateFile', members: ['merge', 'setLedger', 'flush'] },
  // the door's own signal (sendSignal behind a door check)
  { file: 'src/runtime/effects/door.ts', owner: 'EffectsDoor', members: ['signal'] },
];

/** Free functions that write. */
const WRITE_FUNCTIONS: { file: string; name: string }[] = [{ file: 'src/clients/process/signal.ts', name: 'sendSignal' }];

/** Where writes belong. */
const ALLOWED = (file: string): boolean => file === 'src/runtime/executor.ts' || file.startsWith('src/runtime/effects/');

/** Scanned: the product's source, less the clients themselves and the sandbox (the fake peers). */
const SCANNED = (file: string): boolean =>
  (file.startsWith('src/') || file.startsWith('reconcilers/')) && !file.endsWith('.test.ts') && !file.startsWith('src/clients/') && !file.startsWith('src/sandbox/');

/**
 * Writes outside the executor that are known, and why: `where` is a file or the start of a path (the controller
 * may live in one file or a folder). Each must still be found, so a fixed one is taken off this list.
 */
const KNOWN: { where: string; write: string; why: string }[] = [
  { where: 'src/runtime/global-state.ts', write: 'StateFile.write', why: 'GlobalStateFile is the state client of state.json: flush writes what its caller asked for' },
  { where: 'src/runtime/global-state.ts', write: 'GlobalStateFile.flush', why: 'merge and setLedger persist through their own flush' },
  {
    where: 'src/runtime/controller',
    write: 'GlobalStateFile.merge',
    why: "first-run time of a board no task records yet, kept as the controller lists it: the planners' input, not a planned effect (behind the door)",
  },
  {
    where: 'src/cli/degrade.ts',
    write: 'StateFile.write',
    why: "a one-shot run keeps the degrade monitor's hysteresis machine for the next run: the sampler's memory, not a planned effect (behind the door)",
  },
];

interface Use {
  file: string;
  line: number;
  write: string;
}

const rel = (fileName: string): string => relative(ROOT, fileName).split(sep).join('/');

function loadProgram(extra?: { fileName: string; text: string }, oldProgram?: ts.Program): ts.Program {
  const configPath = join(ROOT, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(configPath));
  const host = ts.createCompilerHost(parsed.options, true);
  if (extra) {
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, lang, ...rest) =>
      fileName === extra.fileName ? ts.createSourceFile(fileName, extra.text, lang, true) : getSourceFile(fileName, lang, ...rest);
    const fileExists = host.fileExists.bind(host);
    host.fileExists = (fileName) => fileName === extra.fileName || fileExists(fileName);
  }
  return ts.createProgram({ rootNames: [...parsed.fileNames, ...(extra ? [extra.fileName] : [])], options: parsed.options, host, ...(oldProgram ? { oldProgram } : {}) });
}

/** Every use (call or reference) of a write member or function in the given files. */
function findWrites(program: ts.Program, scanned: (file: string) => boolean): Use[] {
  const checker = program.getTypeChecker();
  const ownerTypes = WRITES.map((w) => {
    const sf = program.getSourceFile(join(ROOT, w.file));
    if (!sf) throw new Error(`not in the program: ${w.file}`);
    const decl = sf.statements.find((s) => (ts.isInterfaceDeclaration(s) || ts.isClassDeclaration(s)) && s.name?.text === w.owner);
    if (!decl || !(ts.isInterfaceDeclaration(decl) || ts.isClassDeclaration(decl)) || !decl.name) throw new Error(`${w.owner} not declared in ${w.file}`);
    return { ...w, decl, type: checker.getTypeAtLocation(decl.name) };
  });
  const functions = WRITE_FUNCTIONS.map((f) => {
    const sf = program.getSourceFile(join(ROOT, f.file));
    const decl = sf?.statements.find((s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === f.name);
    if (!decl) throw new Error(`${f.name} not declared in ${f.file}`);
    return { ...f, decl };
  });
  // Node's own signal: process.kill with any signal but 0 (0 only asks whether the pid exists)
  const processKill = (node: ts.PropertyAccessExpression): boolean => {
    if (node.name.text !== 'kill' || !ts.isCallExpression(node.parent) || node.parent.expression !== node) return false;
    const decls = checker.getSymbolAtLocation(node.name)?.declarations ?? [];
    if (!decls.some((d) => ts.isInterfaceDeclaration(d.parent) && d.parent.name.text === 'Process')) return false;
    const sig = node.parent.arguments[1];
    return !(sig && ts.isNumericLiteral(sig) && sig.text === '0');
  };

  /** The write a property access names: declared by a write owner, or on a receiver that is one. */
  const memberWrite = (node: ts.PropertyAccessExpression | ts.ElementAccessExpression, name: string): string | null => {
    const candidates = ownerTypes.filter((o) => o.members.includes(name));
    if (candidates.length === 0) return null;
    const symbol = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(node) ? node.name : node.argumentExpression);
    const decls = symbol?.declarations ?? [];
    for (const o of candidates) if (decls.some((d) => d.parent === o.decl)) return `${o.owner}.${name}`;
    const receiver = checker.getTypeAtLocation(node.expression);
    if (receiver.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Never)) return null;
    const parts = receiver.isUnion() ? receiver.types : [receiver];
    for (const o of candidates) if (parts.some((t) => checker.isTypeAssignableTo(t, o.type))) return `${o.owner}.${name}`;
    return null;
  };

  const uses: Use[] = [];
  for (const sf of program.getSourceFiles()) {
    const file = rel(sf.fileName);
    if (!scanned(file)) continue;
    const add = (node: ts.Node, write: string) => uses.push({ file, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, write });
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node)) {
        const w = memberWrite(node, node.name.text);
        if (w) add(node, w);
        else if (processKill(node)) add(node, 'process.kill');
      } else if (ts.isElementAccessExpression(node) && ts.isStringLiteralLike(node.argumentExpression)) {
        const w = memberWrite(node, node.argumentExpression.text);
        if (w) add(node, w);
      } else if (ts.isIdentifier(node) && functions.some((f) => f.name === node.text) && !ts.isImportSpecifier(node.parent) && !ts.isExportSpecifier(node.parent)) {
        let symbol = checker.getSymbolAtLocation(node);
        if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
        const f = functions.find((fn) => symbol?.declarations?.includes(fn.decl));
        if (f) add(node, f.name);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return uses;
}

const keyOf = (u: Use): string => `${u.file}: ${u.write}`;
const knownAs = (u: Use) => KNOWN.find((k) => u.file.startsWith(k.where) && u.write === k.write);
const show = (u: Use): string => `${u.file}:${u.line} ${u.write}`;

let program: ts.Program;
let uses: Use[];

beforeAll(() => {
  program = loadProgram();
  uses = findWrites(program, SCANNED);
}, 60_000);

describe('one executor applies actions', () => {
  it('every client write in src/ is made by the executor or an effect handler', () => {
    const outside = uses.filter((u) => !ALLOWED(u.file) && !knownAs(u));
    expect(outside.map(show)).toEqual([]);
  });

  it('the known exceptions are still there (a fixed one leaves the list)', () => {
    const used = new Set(uses.map(knownAs));
    expect(KNOWN.filter((k) => !used.has(k))).toEqual([]);
  });

  it('finds the writes the executor and the effect handlers make', () => {
    const allowed = new Set(uses.filter((u) => ALLOWED(u.file)).map(keyOf));
    expect([...allowed]).toEqual(
      expect.arrayContaining([
        'src/runtime/executor.ts: MissionControlApi.updateTask',
        'src/runtime/executor.ts: GlobalStateFile.merge',
        'src/runtime/executor.ts: GlobalStateFile.setLedger',
        'src/runtime/effects/discord-post.ts: DiscordApi.post',
        'src/runtime/effects/mission-control.ts: MissionControlApi.createTask',
        'src/runtime/effects/door.ts: sendSignal',
      ]),
    );
  });

  it('catches a command that calls a client write itself, and not a look-alike method', () => {
    const fileName = join(ROOT, 'src/cli/commands/__direct-write.ts');
    const text = [
      "import type { MissionControlApi } from '../../clients/mission-control/api.js';",
      "import type { DiscordApi } from '../../clients/discord/api.js';",
      'export async function direct(mc: MissionControlApi, discord: DiscordApi, map: Map<string, number>, http: { post(x: unknown): void }) {',
      "  await mc.updateTask('b', 't', { status: 'done' });",
      "  const post = discord.post;",
      "  map.set('a', 1);",
      "  http.post({});",
      "  process.kill(12345, 0);",
      "  process.kill(12345, 'SIGTERM');",
      '  return post;',
      '}',
    ].join('\n');
    const probe = loadProgram({ fileName, text }, program);
    const found = findWrites(probe, (f) => f === rel(fileName)).map((u) => `${u.line} ${u.write}`);
    expect(found).toEqual(['4 MissionControlApi.updateTask', '5 DiscordApi.post', '9 process.kill']);
  });
});
