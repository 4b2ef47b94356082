import { sep } from 'node:path';

/** Longest relative path accepted, in UTF-16 code units (Linux PATH_MAX). */
export const MAX_PATH_LENGTH = 4096;

/** The result of {@link checkRelativePath}: the normalized segments, or why the path is refused. */
export type PathCheck =
  | { readonly ok: true; readonly path: string; readonly segments: readonly string[] }
  | { readonly ok: false; readonly reason: string };

const DRIVE = /^[A-Za-z]:/;

/**
 * Checks a client-supplied relative path, purely and before any file system access. Refused:
 * - not a string, empty, or longer than {@link MAX_PATH_LENGTH};
 * - any `%`: nothing here decodes, so `%2e%2e%2f` (or its double encoding) would only ever be a
 *   literal name, but a decoder in front of us might disagree; refusing removes the ambiguity;
 * - `\` (a separator on Windows), control characters including NUL;
 * - absolute paths (`/x`, `C:x`);
 * - empty segments (`a//b`, trailing `/`) and any segment starting with `.`, which covers `.`,
 *   `..` and dot-files such as `.env` or `.git`.
 *
 * @example
 * checkRelativePath('guides/scopes.md'); // { ok: true, path: 'guides/scopes.md', segments: [...] }
 * checkRelativePath('a/../../x');        // { ok: false, reason: 'dot segment' }
 */
export function checkRelativePath(input: unknown): PathCheck {
  if (typeof input !== 'string' || input.length === 0) return refuse('not a non-empty string');
  if (input.length > MAX_PATH_LENGTH) return refuse('too long');
  if (input.includes('%')) return refuse('percent sign');
  if (input.includes('\\')) return refuse('backslash');
  if (hasControlCharacter(input)) return refuse('control character');
  if (input.startsWith('/') || DRIVE.test(input)) return refuse('absolute path');
  const segments = input.split('/');
  for (const segment of segments) {
    if (segment.length === 0) return refuse('empty segment');
    if (segment.startsWith('.')) return refuse('dot segment');
  }
  return { ok: true, path: segments.join('/'), segments };
}

// C0 controls (NUL included) and DEL: never part of a name a client should send.
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function refuse(reason: string): PathCheck {
  return { ok: false, reason };
}

/**
 * True when `target` lies strictly inside `root`. Both must be absolute, normalized real paths.
 * Compares against `root + sep`, so `/docs-secret/x` is not inside `/docs`.
 */
export function isInside(root: string, target: string): boolean {
  const prefix = root.endsWith(sep) ? root : root + sep;
  return target.length > prefix.length && target.startsWith(prefix);
}
