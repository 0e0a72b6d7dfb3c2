/**
 * Label selectors as the API server accepts them in `?labelSelector=`: equality-based
 * (`a=b`, `a==b`, `a!=b`) and the set-based basics (`a in (x,y)`, `a notin (x)`, `a`, `!a`).
 */
import { badRequest } from './status.js';

type Requirement = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside a `( … )` value set. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function parseRequirement(term: string): Requirement {
  const setMatch = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (setMatch) {
    const [, key = '', op, list = ''] = setMatch;
    const values = new Set(list.split(',').map((v) => v.trim()).filter(Boolean));
    return op === 'in'
      ? (labels) => labels[key] !== undefined && values.has(labels[key])
      : (labels) => labels[key] === undefined || !values.has(labels[key]);
  }
  const eqMatch = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term);
  if (eqMatch) {
    const [, key = '', op, value = ''] = eqMatch;
    return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
  }
  const existsMatch = /^(!?)([\w./-]+)$/.exec(term);
  if (existsMatch) {
    const [, bang, key = ''] = existsMatch;
    return bang ? (labels) => labels[key] === undefined : (labels) => labels[key] !== undefined;
  }
  throw badRequest(`unable to parse requirement: ${JSON.stringify(term)}`);
}

export function parseLabelSelector(selector: string | null | undefined): Requirement {
  if (!selector) return () => true;
  const requirements = splitTopLevel(selector).map(parseRequirement);
  return (labels) => requirements.every((r) => r(labels));
}
