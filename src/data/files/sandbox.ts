import { constants, realpathSync, statSync } from 'node:fs';
import { type FileHandle, open, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { ConfigError, RampartError } from '../../core/errors.js';
import { checkRelativePath, isInside } from './check-path.js';

/** Options of {@link createFileSandbox}. */
export interface FileSandboxOptions {
  /** The folder reads are confined to. Must exist; its real path is taken once, at construction. */
  readonly root: string;
  /** Largest file read, in bytes. Default 1 MiB (1_048_576). */
  readonly maxBytes?: number;
  /** Extensions that may be read, like `['.md', '.txt']` (dot optional, case-insensitive). Default: any. */
  readonly allowedExtensions?: readonly string[];
}

/** A file read from the sandbox. */
export interface SandboxFile {
  /** The normalized relative path, `/`-separated. */
  readonly path: string;
  /** The content, decoded as UTF-8 (a leading BOM removed). */
  readonly content: string;
  /** The size in bytes. */
  readonly bytes: number;
}

/** Read-only access to the regular files under one folder. */
export interface FileSandbox {
  /** Reads one file. @throws RampartError `ERR_TOOL_PATH_REFUSED` for anything but a readable file inside the root. */
  read(relativePath: string): Promise<SandboxFile>;
  /** Lists the readable files (regular, not symlinks, no dot-files, allowed extensions), sorted. */
  list(): Promise<string[]>;
}

const DEFAULT_MAX_BYTES = 1_048_576;
const CHUNK_BYTES = 65_536;
const LIST_MAX_ENTRIES = 10_000;
const LIST_MAX_DEPTH = 32;
const EXTENSION = /^\.?[A-Za-z0-9_-]{1,16}$/;
// O_NOFOLLOW: the last component must not be a symlink swapped in after realpath. O_NONBLOCK: a
// FIFO placed in the root would otherwise block open() forever; it is refused by fstat below.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Sandboxed, read-only file access for tools such as `read_file`.
 *
 * A path is checked as text first (see `checkRelativePath`), then resolved with `realpath` and must
 * lie inside the root's real path; the resolved file is opened with O_NOFOLLOW and the open file
 * descriptor is checked again (on Linux through `/proc/self/fd`, elsewhere by device and inode),
 * and only then read, from that descriptor, up to `maxBytes`. Every refusal, including "not found",
 * is the same `ERR_TOOL_PATH_REFUSED`, so a caller cannot probe which paths exist.
 *
 * What remains: a hard link inside the root to a file outside it is read (no path check can see
 * it; keep the root writable only by its owner), and a root replaced after construction is not
 * noticed.
 *
 * @throws ConfigError at construction when `root` is not a directory or an option is bad.
 * @example
 * const docs = createFileSandbox({ root: './docs', allowedExtensions: ['.md'] });
 * const { content } = await docs.read('guides/scopes.md');
 */
export function createFileSandbox(options: FileSandboxOptions): FileSandbox {
  const root = realRoot(options.root);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new ConfigError('maxBytes', 'must be a positive integer');
  const extensions = extensionSet(options.allowedExtensions);
  const allowed = (name: string): boolean =>
    extensions === undefined || Object.hasOwn(extensions, extname(name).toLowerCase());

  async function read(relativePath: string): Promise<SandboxFile> {
    const checked = checkRelativePath(relativePath);
    if (!checked.ok) throw refused(checked.reason);
    if (!allowed(checked.path)) throw refused('extension not allowed');
    let real: string;
    try {
      real = await realpath(join(root, ...checked.segments));
    } catch (error) {
      throw refused(`cannot be resolved (${errorCode(error)})`);
    }
    checkResolved(real);
    let handle: FileHandle;
    try {
      handle = await open(real, OPEN_FLAGS);
    } catch (error) {
      throw refused(`cannot be opened (${errorCode(error)})`);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw refused('not a regular file');
      if (info.size > maxBytes) throw refused('file too large');
      await checkOpened(handle, real, info);
      const bytes = await readAtMost(handle, maxBytes);
      if (bytes === undefined) throw refused('file too large');
      return { path: checked.path, content: decodeUtf8(bytes), bytes: bytes.length };
    } finally {
      await handle.close();
    }
  }

  // The resolved path gets the same rules as the requested one: a symlink `a.md` inside the root
  // must not lead to `.env` or to `secret.key` inside it either.
  function checkResolved(real: string): void {
    if (!isInside(root, real)) throw refused('resolves outside the root');
    const inner = checkRelativePath(relative(root, real).split(sep).join('/'));
    if (!inner.ok) throw refused(`resolved path: ${inner.reason}`);
    if (!allowed(real)) throw refused('resolved extension not allowed');
  }

  // Which file did open() really give us? Linux tells through /proc; elsewhere re-resolve and
  // compare device and inode, which catches a directory swapped between realpath and open.
  async function checkOpened(
    handle: FileHandle,
    real: string,
    info: { dev: number; ino: number },
  ): Promise<void> {
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened?.startsWith('/')) {
      checkResolved(opened);
      return;
    }
    const again = await realpath(real).catch(() => undefined);
    const now = again === undefined ? undefined : await stat(again).catch(() => undefined);
    if (again === undefined || now === undefined || now.dev !== info.dev || now.ino !== info.ino) {
      throw refused('file changed while opening');
    }
    checkResolved(again);
  }

  async function list(): Promise<string[]> {
    const found: string[] = [];
    const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
      if (depth > LIST_MAX_DEPTH) return;
      const entries = await readdir(dir, { withFileTypes: true });
      for (const entry of entries) {
        if (found.length >= LIST_MAX_ENTRIES) return;
        const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (!checkRelativePath(rel).ok) continue;
        // Dirent types come from lstat: symlinks are neither files nor directories here.
        if (entry.isDirectory()) await walk(join(dir, entry.name), rel, depth + 1);
        else if (entry.isFile() && allowed(entry.name)) found.push(rel);
      }
    };
    await walk(root, '', 0);
    return found.sort();
  }

  return Object.freeze({ read, list });
}

function realRoot(root: unknown): string {
  if (typeof root !== 'string' || root.length === 0) throw new ConfigError('root', 'must be a folder path');
  try {
    const real = realpathSync(root);
    if (statSync(real).isDirectory()) return real;
  } catch (cause) {
    throw new ConfigError('root', 'must be an existing folder', { cause });
  }
  throw new ConfigError('root', 'must be an existing folder');
}

function extensionSet(list: readonly string[] | undefined): Readonly<Record<string, true>> | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError('allowedExtensions', 'must be a non-empty list, or left out to allow any');
  }
  const set: Record<string, true> = Object.create(null);
  list.forEach((ext, i) => {
    if (typeof ext !== 'string' || !EXTENSION.test(ext)) {
      throw new ConfigError(`allowedExtensions[${i}]`, 'must look like ".md"');
    }
    set[(ext.startsWith('.') ? ext : `.${ext}`).toLowerCase()] = true;
  });
  return Object.freeze(set);
}

/** Reads from the descriptor until EOF; undefined once more than `maxBytes` arrive (the file grew). */
async function readAtMost(handle: FileHandle, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) return undefined;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw refused('not valid UTF-8');
  }
}

// Only the errno code: the fs error's own message contains the path.
function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown';
}

/** The one refusal: a fixed message; `reason` (never the path) goes to the logs via `cause`. */
function refused(reason: string): RampartError {
  return new RampartError('ERR_TOOL_PATH_REFUSED', { cause: new Error(reason) });
}
