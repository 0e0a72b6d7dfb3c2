import type { z } from 'zod';
import { configSchema, type SettingMeta } from './schema.js';

/** A leaf of the config schema with its dotted path and metadata. */
export interface Setting {
  path: string[];
  schema: z.ZodType;
  meta: SettingMeta;
}

function walk(schema: z.ZodType, path: string[], out: Setting[]): void {
  const meta = schema.meta() as SettingMeta | undefined;
  const def = (schema as unknown as { _zod: { def: { type: string; shape?: Record<string, z.ZodType> } } })._zod.def;
  if (!meta && def.type === 'object' && def.shape) {
    for (const [key, child] of Object.entries(def.shape)) walk(child, [...path, key], out);
    return;
  }
  if (!meta) throw new Error(`config leaf ${path.join('.')} lacks metadata`);
  out.push({ path, schema, meta });
}

let cached: Setting[] | undefined;
export function settings(): Setting[] {
  if (!cached) {
    cached = [];
    walk(configSchema, [], cached);
  }
  return cached;
}

/** Default value of a leaf, or undefined. */
export function defaultOf(setting: Setting): unknown {
  const def = (setting.schema as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
  return def.type === 'default' ? def.defaultValue : undefined;
}

export function getPath(obj: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  path.forEach((key, i) => {
    if (i === path.length - 1) cur[key] = value;
    else cur = (cur[key] ??= {}) as Record<string, unknown>;
  });
}
