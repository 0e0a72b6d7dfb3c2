/**
 * The configuration reference (docs/configuration.md) rendered from the one zod schema, so the document
 * cannot drift from what the loader accepts. Pure: schema metadata in, markdown out.
 */
import type { z } from 'zod';
import { defaultOf, settings, type Setting } from './settings.js';

/** The command that regenerates docs/configuration.md (quoted in the document and in the staleness test). */
export const REGENERATE_COMMAND = 'npx tsc -p . && node dist/src/cli/main.js config --reference > docs/configuration.md';

const SECTION_TITLES: Record<string, string> = {
  mc: 'Mission Control',
  agents: 'Agents',
  gateway: 'OpenClaw gateway',
  discord: 'Discord',
  loop: 'Reconcile loop',
  watchdog: 'Watchdog',
  delivery: 'Delivery',
  degrade: 'Degrade mode',
  ops: 'Operations (leader election, probes, shutdown)',
};

type Def = { type: string; innerType?: z.ZodType; out?: z.ZodType; entries?: Record<string, string> };
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Allowed values of an enum leaf (through default/optional/preprocess wrappers), else undefined. */
function enumValues(schema: z.ZodType): string[] | undefined {
  let cur: z.ZodType | undefined = schema;
  for (let depth = 0; cur && depth < 8; depth++) {
    const def = defOf(cur);
    if (def.type === 'enum' && def.entries) return Object.values(def.entries);
    cur = def.innerType ?? def.out;
  }
  return undefined;
}

/** Table cells must stay on one line and must not open a new column. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function code(text: string): string {
  return `\`${text}\``;
}

function renderDefault(setting: Setting): string {
  if (setting.meta.secret) return 'none';
  const value = defaultOf(setting);
  if (value === undefined) return '—';
  if (Array.isArray(value)) return value.length === 0 ? 'empty' : code(value.join(','));
  if (value !== null && typeof value === 'object') return Object.keys(value).length === 0 ? 'empty' : code(JSON.stringify(value));
  return code(String(value));
}

function renderRow(setting: Setting): string {
  const values = enumValues(setting.schema);
  const description = [
    setting.meta.description,
    values ? `One of ${values.map(code).join(', ')}.` : '',
    setting.meta.secret ? 'Secret: never logged or printed.' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `| ${[
    code(setting.path.join('.')),
    setting.meta.env ? code(setting.meta.env) : '—',
    setting.meta.file ? code(setting.meta.file) : '—',
    renderDefault(setting),
    description,
  ]
    .map(cell)
    .join(' | ')} |`;
}

const HEADER = `# Configuration reference

<!-- Generated from src/config/schema.ts; do not edit by hand. Regenerate with:
     ${REGENERATE_COMMAND} -->

Generated from the configuration schema (\`src/config/schema.ts\`); a test fails when this file is stale.
Regenerate it with \`${REGENERATE_COMMAND}\`
(\`mc-controller config --reference\` prints the same text from an installed build).

## Where values come from

Each setting is read from these sources; a later source wins over an earlier one:

1. the default in the tables below;
2. the legacy kit file \`config/mission-control-ids.json\` (another path with \`MC_CONFIG_PATH\` or \`--config\`; a path named
   that way must exist and be a readable file, the default one may be absent), by its *kit file key*;
3. its git-ignored overlay beside it, \`config/mission-control-ids.local.json\`, same keys;
4. the environment variable;
5. a command-line flag where one exists (\`--api-url\`, \`--board\`, \`--log-level\`, \`--dry-run\`).

Secrets (tokens) belong in the environment or the \`.local.json\` overlay: a real-looking secret in the versioned
file is refused, and the kit's placeholders (\`replace-me\`, \`changeme\`, …) count as unset. Invalid values and
broken rules between settings (a recover threshold above the degrade one, a token missing for a URL) are all listed
together, each under the name it was given by (variable, kit file key or flag), and the process exits with code 2.
\`mc-controller config --print\` prints the effective configuration with every secret redacted and the source of
every value: \`default\`, \`file\`, \`local file\`, \`environment\`, \`flag\`, or \`unset\` for an optional setting
nobody set; \`mc-controller doctor\` checks the peers it points at.
`;

/** Markdown for every config leaf, one table per top-level section, in schema order. */
export function renderConfigReference(all: readonly Setting[] = settings()): string {
  const sections = new Map<string, Setting[]>();
  for (const s of all) {
    const key = s.path[0] ?? '';
    sections.set(key, [...(sections.get(key) ?? []), s]);
  }
  const parts = [HEADER];
  for (const [key, rows] of sections) {
    parts.push(
      [
        `## ${SECTION_TITLES[key] ?? key} (\`${key}\`)`,
        '',
        '| Setting | Environment | Kit file key | Default | Description |',
        '| --- | --- | --- | --- | --- |',
        ...rows.map(renderRow),
        '',
      ].join('\n'),
    );
  }
  return parts.join('\n');
}
