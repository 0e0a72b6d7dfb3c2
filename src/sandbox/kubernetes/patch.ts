/**
 * The three patch flavours the API server accepts, dispatched on Content-Type like the real
 * handler: a merge-style object sent as `application/json-patch+json` fails with 400 BadRequest
 * ("cannot unmarshal object into Go value of type jsonpatch.Patch"), an unknown type with 415.
 */
import { badRequest, StatusError } from './status.js';

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch; strategic merge is treated the same (we never patch lists by key). */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: Json;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 subset: add, replace, remove, test — enough for the operations controllers send. */
export function jsonPatch(target: Json, ops: JsonPatchOp[]): Json {
  const doc = structuredClone(target) as Record<string, Json>;
  for (const op of ops) {
    const segments = pointer(op.path);
    const last = segments.pop();
    if (last === undefined) throw new StatusError(422, 'Invalid', 'cannot patch the document root');
    let parent: Json = doc;
    for (const seg of segments) {
      parent = isObject(parent) || Array.isArray(parent) ? (parent as Record<string, Json>)[seg] : undefined;
      if (parent === undefined) throw new StatusError(422, 'Invalid', `doc is missing path: "${op.path}"`);
    }
    if (!isObject(parent) && !Array.isArray(parent)) {
      throw new StatusError(422, 'Invalid', `doc is missing path: "${op.path}"`);
    }
    const container = parent as Record<string, Json>;
    const list = Array.isArray(parent) ? (parent as Json[]) : undefined;
    const exists = list ? Number(last) < list.length : last in container;
    switch (op.op) {
      case 'add':
        if (list) list.splice(last === '-' ? list.length : Number(last), 0, op.value);
        else container[last] = op.value;
        break;
      case 'replace':
        if (!exists) throw new StatusError(422, 'Invalid', `doc is missing key: "${op.path}"`);
        container[last] = op.value;
        break;
      case 'remove':
        if (!exists) throw new StatusError(422, 'Invalid', `doc is missing key: "${op.path}"`);
        if (list) list.splice(Number(last), 1);
        else delete container[last];
        break;
      case 'test':
        if (JSON.stringify(container[last]) !== JSON.stringify(op.value)) {
          throw new StatusError(422, 'Invalid', `testing value ${op.path} failed`);
        }
        break;
      default:
        throw new StatusError(422, 'Invalid', `unexpected kind of operation: ${op.op}`);
    }
  }
  return doc;
}

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const;

/** Applies `body` to `current` according to the request's Content-Type. */
export function applyPatch(current: Json, body: Json, contentType: string | undefined): Json {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === 'application/json-patch+json') {
    if (!Array.isArray(body)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    return jsonPatch(current, body as JsonPatchOp[]);
  }
  if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
    if (!isObject(body)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
    return mergePatch(current, body);
  }
  throw new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
  );
}
