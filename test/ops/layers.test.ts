/**
 * docs/architecture.md: only `src/clients/` performs network and host I/O. The machinery (`src/runtime/`), the
 * vocabulary (`src/model/`) and the planners (`reconcilers/`) may name an I/O library's types, never load it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const IO_MODULES = ['fs', 'fs/promises', 'net', 'http', 'https', 'child_process', 'dns', 'tls', 'undici', 'ws', '@discordjs/rest', '@kubernetes/client-node'];
const isIo = (specifier: string): boolean => IO_MODULES.includes(specifier.replace(/^node:/, ''));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Every module a file loads at run time: value imports and re-exports (all specifiers `type` = none), dynamic imports. */
function valueImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+['"]([^'"]+)['"]/gm)) {
    const [, , typeOnly, clause, specifier] = m;
    const braces = /^\{([\s\S]*)\}$/.exec(clause!.trim());
    const allTypes = braces !== null && braces[1]!.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '));
    if (!typeOnly && !allTypes) found.push(specifier!);
  }
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

describe('only src/clients performs I/O', () => {
  it('recognises value imports, type-only imports and dynamic imports', () => {
    const text = [
      "import { readFileSync } from 'node:fs';",
      "import type { Agent } from 'undici';",
      "import { type KubeConfig } from '@kubernetes/client-node';",
      "import {\n  type A,\n  B,\n} from 'ws';",
      "export { x } from 'node:http';",
      "const m = await import('node:net');",
    ].join('\n');
    expect(valueImports(text)).toEqual(['node:fs', 'ws', 'node:http', 'node:net']);
  });

  it.each(['src/runtime', 'src/model', 'reconcilers'])('%s loads no I/O module', (dir) => {
    const offenders = sources(dir).flatMap((file) =>
      valueImports(readFileSync(file, 'utf8'))
        .filter(isIo)
        .map((specifier) => `${relative(ROOT, file)}: ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });
});
