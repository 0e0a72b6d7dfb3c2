import { createHash } from 'node:crypto';
import { stripVTControlCharacters } from 'node:util';
import { escapeMarkdown } from '@discordjs/formatters';

/**
 * Pure text helpers for Discord messages, shared by the planners (which may import only `src/model/`)
 * and the Discord client. Limits from discord-api-docs (message.mdx); lengths are JS `.length`
 * (UTF-16 units), which is what Discord counts too, or more conservative.
 */

export const CONTENT_LIMIT = 2000;
export const EMBED_DESCRIPTION_LIMIT = 4096;
export const NONCE_LIMIT = 25;
export const ELLIPSIS = '…';

const ZWSP = '\u200b';

/**
 * Agent output is data, never markup. Markdown (masked links included) is escaped; mention syntax is
 * broken with a zero-width space as a second line of defence, since `allowed_mentions: {parse: []}`
 * already stops every ping but a copied or forwarded text would not carry that flag.
 */
export function escapeUntrusted(text: string): string {
  const escaped = escapeMarkdown(stripInvisible(text), { maskedLink: true, heading: true });
  return escaped
    .replace(/^(\s*)-#/gm, '$1\\-#')
    .replace(/@(everyone|here)/gi, `@${ZWSP}$1`)
    .replace(/<@([!&]?)(\d+)>/g, `<@${ZWSP}$1$2>`)
    .replace(/<#(\d+)>/g, `<#${ZWSP}$1>`);
}

// C0 controls but tab and newline, DEL; and the bidi embeddings/overrides/isolates that reorder what a reader sees
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
const BIDI = /[\u202a-\u202e\u2066-\u2069]/g;

/**
 * Terminal and layout control out of agent text: ANSI escape sequences (node's own parser), then stray control
 * characters and bidi overrides, which could make a Discord line read differently from what it says.
 */
export function stripInvisible(text: string): string {
  return stripVTControlCharacters(text.replace(/\r\n?/g, '\n')).replace(CONTROL, '').replace(BIDI, '');
}

/** Cut to at most `max` units, ending with an ellipsis when cut; never splits a surrogate pair. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= ELLIPSIS.length) return ELLIPSIS.slice(0, max);
  return sliceSafe(text, max - ELLIPSIS.length) + ELLIPSIS;
}

function sliceSafe(text: string, end: number): string {
  let cut = Math.max(0, end);
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return text.slice(0, cut);
}

/** Collapse whitespace runs to single spaces, for one-line fields (titles, reasons). */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export interface FitInput {
  /** lines before the body (already escaped where untrusted) */
  header: readonly string[];
  /** prefix of the body's first line, e.g. `Resultado: ` */
  bodyLabel?: string;
  /** the long, escaped body */
  body: string;
  /** lines after the body (a reference marker); always kept in content */
  footer?: readonly string[];
}

export interface FittedMessage {
  content: string;
  embeds?: { description: string }[];
}

/**
 * Fits a header + long body into one message Discord accepts. When everything fits in 2000 it is one
 * plain message; otherwise the beginning of the body stays in content (cut with an ellipsis) and the rest
 * goes into one embed description, itself cut at 4096 with an ellipsis.
 */
export function fitMessage(input: FitInput): FittedMessage {
  const label = input.bodyLabel ?? '';
  const before = input.header.length > 0 ? `${input.header.join('\n')}\n` : '';
  const after = input.footer && input.footer.length > 0 ? `\n${input.footer.join('\n')}` : '';
  const whole = `${before}${label}${input.body}${after}`;
  if (whole.length <= CONTENT_LIMIT) return { content: whole };

  // Header and footer are short by construction; if they alone overflow, cut the header as a last resort.
  const room = CONTENT_LIMIT - before.length - label.length - after.length;
  if (room < ELLIPSIS.length + 1) {
    const content = truncate(`${before}${label}`, CONTENT_LIMIT - after.length) + after;
    return { content, embeds: [{ description: truncate(input.body, EMBED_DESCRIPTION_LIMIT) }] };
  }
  const headPart = sliceSafe(input.body, room - ELLIPSIS.length);
  const rest = input.body.slice(headPart.length);
  return {
    content: `${before}${label}${headPart}${ELLIPSIS}${after}`,
    embeds: [{ description: truncate(`${ELLIPSIS}${rest}`, EMBED_DESCRIPTION_LIMIT) }],
  };
}

/**
 * Deterministic Discord nonce for an idempotency key: base36 of 120 bits of sha256 (≤ 24 chars), so a
 * retry of the same intended message, even from a restarted process, carries the same nonce.
 */
export function nonceFor(idempotencyKey: string): string {
  const hex = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 30);
  return BigInt(`0x${hex}`).toString(36);
}

/**
 * A small grey line (Discord subtext) carrying the nonce, so a message can be recognised among the
 * channel's recent messages after the nonce window (a few minutes) has passed; GET does not return nonces.
 */
export function refLine(idempotencyKey: string): string {
  return `-# ref ${nonceFor(idempotencyKey)}`;
}
