/*
 * Strict, bounded JSON parsing of request bodies.
 *
 * Design: one pass of an iterative parser that builds the value itself. It was measured against a
 * validating scanner (same checks, no values built) followed by native JSON.parse, on Node 20.20 in
 * a shared 2-vCPU VM. Nanoseconds per call, best of 5 runs of 21-61 interleaved rounds (medians ran
 * 1.3-2x higher under contention from other processes):
 *
 *   input                                          JSON.parse   this parser   scanner + JSON.parse
 *   tools/call body, 336 B                              1,800         3,900                  5,200
 *   100 KB: 676 records of 7 fields, text             690,000     1,100,000              1,680,000
 *   100 KB: one long string with escapes, text        220,000       243,000                470,000
 *   the same from bytes (fatal UTF-8 decode first)    526,000       551,000                780,000
 *
 * The scanner reads the text twice and must slice every key for its duplicate check; the builder
 * gets that check nearly free from the object it is filling (Object.hasOwn). Long string runs are
 * skipped with a sticky regex, which irregexp compiles to a tight native loop. Decoding with a fatal
 * TextDecoder adds about 150 ns for 336 B, 30 us for 100 KB of ASCII and 300-500 us for 100 KB of
 * non-ASCII text (building a two-byte string; a non-fatal decoder costs the same).
 *
 * Defining properties with Object.defineProperty instead of assignment measured 3x slower on the
 * records body, so values are stored by assignment; `store()` explains why that is safe.
 */
import type { ErrorCode } from '../core/error-codes.js';
import { ConfigError, RampartError } from '../core/errors.js';

/** Limits applied while a request body is parsed. Exceeding any of them rejects the body. */
export interface JsonLimits {
  /** Deepest nesting of objects and arrays: a top-level scalar is depth 0, `[]` is 1, `[[]]` is 2. */
  maxDepth: number;
  /** Most values in the document, counting every object, array and scalar (keys are not values). */
  maxElements: number;
  /** Longest string value, in UTF-8 bytes after unescaping. Default: unlimited (the body limit bounds it). */
  maxStringBytes?: number;
  /** Longest object key, in UTF-8 bytes after unescaping. Default: 1024. */
  maxKeyBytes?: number;
}

/** The limits used when none are given: depth 64, 100,000 values, keys up to 1 KiB, strings unlimited. */
export const DEFAULT_JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({
  maxDepth: 64,
  maxElements: 100_000,
  maxKeyBytes: 1024,
});

const DEFAULT_MAX_KEY_BYTES = 1024;

// Stateless between calls (no `stream` option), so one instance serves every request.
const DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes a request body as strict UTF-8 and parses it as JSON (RFC 8259) within `limits`.
 *
 * @param body - The raw request body.
 * @param limits - Depth, element and size limits; default {@link DEFAULT_JSON_LIMITS}.
 * @returns The parsed value, built from ordinary objects and arrays exactly as `JSON.parse` builds it.
 * @throws RampartError `ERR_REQUEST_INVALID_UTF8`, or any error of {@link parseJsonText}. A leading
 *   byte order mark is `ERR_REQUEST_INVALID_JSON` (RFC 8259 §8.1: senders MUST NOT add one).
 * @throws ConfigError when `limits` holds a value that is not a number >= 0.
 * @example
 * const message = parseJsonBody(await readBody(request, 1_048_576));
 */
export function parseJsonBody(body: Uint8Array, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  // The decoder would silently drop a BOM (ignoreBOM: false), so look for it first.
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
    throw new RampartError('ERR_REQUEST_INVALID_JSON', { cause: new Error('byte order mark') });
  }
  let text: string;
  try {
    text = DECODER.decode(body);
  } catch (cause) {
    throw new RampartError('ERR_REQUEST_INVALID_UTF8', { cause });
  }
  return parseJsonText(text, limits);
}

/**
 * Parses JSON text exactly as strictly as `JSON.parse` (RFC 8259: no comments, trailing commas,
 * leading zeros, NaN or non-JSON whitespace), and returns the same value, but also rejects
 * duplicate keys, the keys `__proto__`, `constructor` and `prototype`, numbers too large for a
 * double (JSON.parse makes them ±Infinity), and anything over `limits`. Errors are reported for the first problem in document order. The parser uses no recursion, so
 * deep nesting cannot overflow the stack.
 *
 * @param text - The JSON text; an empty text is invalid.
 * @param limits - Depth, element and size limits; default {@link DEFAULT_JSON_LIMITS}.
 * @throws RampartError `ERR_REQUEST_INVALID_JSON`, `ERR_REQUEST_TOO_DEEP`,
 *   `ERR_REQUEST_TOO_MANY_ELEMENTS`, `ERR_REQUEST_STRING_TOO_LONG` (a string or key over its byte limit),
 *   `ERR_REQUEST_DUPLICATE_KEY` (keys compared after unescaping), `ERR_REQUEST_FORBIDDEN_KEY` or
 *   `ERR_REQUEST_NUMBER_OUT_OF_RANGE`.
 * @throws ConfigError when `limits` holds a value that is not a number >= 0.
 * @example
 * parseJsonText('{"a":[1,2]}'); // { a: [1, 2] }
 * parseJsonText('{"a":1,"\\u0061":2}'); // throws ERR_REQUEST_DUPLICATE_KEY
 */
export function parseJsonText(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  return new Parser(text, limits).parse();
}

type Container = unknown[] | Record<string, unknown>;

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_1 = 0x31;
const DIGIT_9 = 0x39;

/** Skips a run of string characters that need no attention (RFC 8259 §7 `unescaped`). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: RFC 8259 §7 forbids them unescaped.
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;
/** Below this many characters a string is scanned by hand: a regex call costs more than it saves. */
const HAND_SCAN = 24;

class Parser {
  private pos = 0;
  private elements = 0;
  private readonly len: number;
  private readonly maxDepth: number;
  private readonly maxElements: number;
  private readonly maxStringBytes: number;
  private readonly maxKeyBytes: number;

  constructor(
    private readonly text: string,
    limits: JsonLimits,
  ) {
    this.len = text.length;
    this.maxDepth = limit('maxDepth', limits.maxDepth);
    this.maxElements = limit('maxElements', limits.maxElements);
    this.maxStringBytes = limit('maxStringBytes', limits.maxStringBytes ?? Number.POSITIVE_INFINITY);
    this.maxKeyBytes = limit('maxKeyBytes', limits.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES);
  }

  parse(): unknown {
    // Open containers, and for each open object the key whose value is being parsed.
    const stack: Container[] = [];
    const keys: string[] = [];
    let value: unknown;
    for (;;) {
      const c = this.skip();
      if (++this.elements > this.maxElements) this.fail('ERR_REQUEST_TOO_MANY_ELEMENTS');
      if (c === QUOTE) {
        value = this.string(false);
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        if (stack.length >= this.maxDepth) this.fail('ERR_REQUEST_TOO_DEEP');
        this.pos++;
        const close = c === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
        const container: Container = c === OPEN_BRACE ? {} : [];
        if (this.skip() === close) {
          this.pos++;
          value = container;
        } else {
          keys.push(Array.isArray(container) ? '' : this.key(container));
          stack.push(container);
          continue;
        }
      } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
        value = this.number(c);
      } else if (c === 0x74 && this.text.startsWith('true', this.pos)) {
        this.pos += 4;
        value = true;
      } else if (c === 0x66 && this.text.startsWith('false', this.pos)) {
        this.pos += 5;
        value = false;
      } else if (c === 0x6e && this.text.startsWith('null', this.pos)) {
        this.pos += 4;
        value = null;
      } else {
        this.fail('ERR_REQUEST_INVALID_JSON');
      }
      // A value is complete: attach it, then close every container that ends right after it.
      for (;;) {
        const top = stack.length - 1;
        const next = this.skip();
        if (top < 0) {
          if (next !== -1) this.fail('ERR_REQUEST_INVALID_JSON');
          return value;
        }
        const container = stack[top]!;
        if (Array.isArray(container)) {
          container.push(value);
          if (next === COMMA) {
            this.pos++;
            break;
          }
          if (next !== CLOSE_BRACKET) this.fail('ERR_REQUEST_INVALID_JSON');
        } else {
          store(container, keys[top]!, value);
          if (next === COMMA) {
            this.pos++;
            this.skip();
            keys[top] = this.key(container);
            break;
          }
          if (next !== CLOSE_BRACE) this.fail('ERR_REQUEST_INVALID_JSON');
        }
        this.pos++;
        value = container;
        stack.pop();
        keys.pop();
      }
    }
  }

  /** Skips whitespace (RFC 8259 §2: space, tab, LF, CR only); returns the next code unit, or -1 at the end. */
  private skip(): number {
    const text = this.text;
    let pos = this.pos;
    while (pos < this.len) {
      const c = text.charCodeAt(pos);
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) {
        this.pos = pos;
        return c;
      }
      pos++;
    }
    this.pos = pos;
    return -1;
  }

  /** Reads `"key" :` of `obj`, refusing forbidden and duplicate keys (compared after unescaping). */
  private key(obj: Record<string, unknown>): string {
    if (this.pos >= this.len || this.text.charCodeAt(this.pos) !== QUOTE)
      this.fail('ERR_REQUEST_INVALID_JSON');
    const key = this.string(true);
    if (
      (key.length === 9 || key.length === 11) &&
      (key === '__proto__' || key === 'constructor' || key === 'prototype')
    ) {
      this.fail('ERR_REQUEST_FORBIDDEN_KEY');
    }
    // The object's own property table is the set of keys seen so far: O(1) or O(log n) per lookup.
    if (Object.hasOwn(obj, key)) this.fail('ERR_REQUEST_DUPLICATE_KEY');
    if (this.skip() !== COLON) this.fail('ERR_REQUEST_INVALID_JSON');
    this.pos++;
    return key;
  }

  /** Reads a string starting at the opening quote; `isKey` picks the byte limit. */
  private string(isKey: boolean): string {
    const text = this.text;
    const start = this.pos + 1;
    const stop = Math.min(start + HAND_SCAN, this.len);
    let pos = start;
    while (pos < stop) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE || c === BACKSLASH || c < 0x20) break;
      pos++;
    }
    if (pos === stop) {
      PLAIN_RUN.lastIndex = pos;
      PLAIN_RUN.test(text);
      pos = PLAIN_RUN.lastIndex;
    }
    const c = pos < this.len ? text.charCodeAt(pos) : -1;
    if (c === BACKSLASH) return this.escaped(start, pos, isKey);
    if (c !== QUOTE) this.fail('ERR_REQUEST_INVALID_JSON');
    this.pos = pos + 1;
    return this.sized(isKey ? cachedKey(text, start, pos) : text.slice(start, pos), isKey);
  }

  /** Continues a string at its first backslash. */
  private escaped(start: number, from: number, isKey: boolean): string {
    const text = this.text;
    let out = text.slice(start, from);
    let pos = from;
    for (;;) {
      // `pos` is at a backslash (RFC 8259 §7).
      const e = text.charCodeAt(pos + 1);
      if (e === 0x75) {
        const code =
          (hex(text.charCodeAt(pos + 2)) << 12) |
          (hex(text.charCodeAt(pos + 3)) << 8) |
          (hex(text.charCodeAt(pos + 4)) << 4) |
          hex(text.charCodeAt(pos + 5));
        if (code < 0) break;
        // Lone surrogates are kept, as JSON.parse keeps them (RFC 8259 §8.2 leaves them undefined).
        out += String.fromCharCode(code);
        pos += 6;
      } else {
        const s = e < 0x80 ? ESCAPES[e] : undefined;
        if (s === undefined) break;
        out += s;
        pos += 2;
      }
      PLAIN_RUN.lastIndex = pos;
      PLAIN_RUN.test(text);
      const end = PLAIN_RUN.lastIndex;
      out += text.slice(pos, end);
      pos = end;
      const c = pos < this.len ? text.charCodeAt(pos) : -1;
      if (c === QUOTE) {
        this.pos = pos + 1;
        return this.sized(out, isKey);
      }
      if (c !== BACKSLASH) break;
    }
    this.pos = pos;
    return this.fail('ERR_REQUEST_INVALID_JSON');
  }

  private sized(s: string, isKey: boolean): string {
    const maxBytes = isKey ? this.maxKeyBytes : this.maxStringBytes;
    // A UTF-16 code unit is at most 3 UTF-8 bytes, so most strings need no count.
    if (s.length * 3 > maxBytes && utf8Length(s) > maxBytes) {
      const what = isKey ? 'key' : 'string';
      throw new RampartError('ERR_REQUEST_STRING_TOO_LONG', {
        message: `Invalid request: JSON ${what} too long`,
        cause: new Error(`JSON ${what} over ${maxBytes} bytes at offset ${this.pos}`),
      });
    }
    return s;
  }

  /** Reads a number (RFC 8259 §6) and converts it as JSON.parse does. */
  private number(first: number): number {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    let c = first;
    // Past the end charCodeAt gives NaN, which fails every comparison below, as the end should.
    if (c === MINUS) c = text.charCodeAt(++pos);
    let int = 0;
    let digits = 0;
    if (c === DIGIT_0) {
      c = text.charCodeAt(++pos);
      digits = 1;
    } else if (c >= DIGIT_1 && c <= DIGIT_9) {
      do {
        int = int * 10 + (c - DIGIT_0);
        digits++;
        c = text.charCodeAt(++pos);
      } while (c >= DIGIT_0 && c <= DIGIT_9);
    } else {
      this.pos = pos;
      this.fail('ERR_REQUEST_INVALID_JSON');
    }
    // Up to 15 digits the running integer is exact (< 2^53); anything else goes to Number().
    let exact = digits <= 15;
    if (c === 0x2e) {
      exact = false;
      c = text.charCodeAt(++pos);
      if (!(c >= DIGIT_0 && c <= DIGIT_9)) this.failAt(pos);
      do c = text.charCodeAt(++pos);
      while (c >= DIGIT_0 && c <= DIGIT_9);
    }
    if (c === 0x65 || c === 0x45) {
      exact = false;
      c = text.charCodeAt(++pos);
      if (c === 0x2b || c === MINUS) c = text.charCodeAt(++pos);
      if (!(c >= DIGIT_0 && c <= DIGIT_9)) this.failAt(pos);
      do c = text.charCodeAt(++pos);
      while (c >= DIGIT_0 && c <= DIGIT_9);
    }
    this.pos = pos;
    if (exact) return first === MINUS ? -int : int; // "-0" gives -0, as JSON.parse does
    const value = Number(text.slice(start, pos));
    // JSON.parse makes 1e999 Infinity, which no JSON can say again (it serializes as null) and the
    // argument hash refuses: a limit RFC 8259 §9 allows, refused here as one.
    if (!Number.isFinite(value)) this.fail('ERR_REQUEST_NUMBER_OUT_OF_RANGE');
    return value;
  }

  private failAt(pos: number): never {
    this.pos = pos;
    return this.fail('ERR_REQUEST_INVALID_JSON');
  }

  private fail(code: ErrorCode): never {
    // The offset helps whoever reads the logs; the input itself never goes into an error.
    throw new RampartError(code, { cause: new Error(`JSON rejected at offset ${this.pos}`) });
  }
}

// Short keys seen before, one per slot: the same few keys (`jsonrpc`, `id`, `method`, `params`,
// `name`, `arguments`…) open every request. A repeated key is the same string as last time, whose
// hash V8 already knows, instead of a new one to hash for the duplicate check and the store:
// parsing the bench's tools/call body takes 1.18 µs instead of 1.39 (Node 20). Only keys under 13 characters: V8 copies slices that short,
// so a cached key never keeps the request text it came from alive.
const KEY_SLOTS = 256;
const MAX_CACHED_KEY = 12;
const keyCache: (string | undefined)[] = new Array(KEY_SLOTS).fill(undefined);

/** The key at `start`..`end` of `text`: the cached string when it is the same, else a new slice. */
function cachedKey(text: string, start: number, end: number): string {
  const length = end - start;
  if (length === 0 || length > MAX_CACHED_KEY) return text.slice(start, end);
  const slot = (length * 31 + text.charCodeAt(start) * 7 + text.charCodeAt(end - 1)) & (KEY_SLOTS - 1);
  const cached = keyCache[slot];
  if (cached !== undefined && cached.length === length && text.startsWith(cached, start)) return cached;
  const key = text.slice(start, end);
  keyCache[slot] = key;
  return key;
}

/**
 * Stores a parsed value as an own, enumerable, writable data property, as JSON.parse does.
 *
 * Plain assignment is safe here because the one inherited accessor of Object.prototype, `__proto__`,
 * is refused before we get here (with `constructor` and `prototype`, which downstream merges misuse).
 * Every other inherited name (`toString`, `hasOwnProperty`, ...) is a writable data property, and
 * assigning over it creates an own property. Only when intrinsics are frozen (`--frozen-intrinsics`,
 * SES lockdown) does assignment over an inherited read-only name throw; then we define the property.
 */
function store(obj: Record<string, unknown>, key: string, value: unknown): void {
  try {
    obj[key] = value;
  } catch {
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  }
}

/** The single-character escapes of RFC 8259 §7, by the code of the character after the backslash. */
const ESCAPES: readonly (string | undefined)[] = (() => {
  const table: (string | undefined)[] = new Array(0x80).fill(undefined);
  for (const [c, s] of [
    ['"', '"'],
    ['\\', '\\'],
    ['/', '/'],
    ['b', '\b'],
    ['f', '\f'],
    ['n', '\n'],
    ['r', '\r'],
    ['t', '\t'],
  ] as const) {
    table[c.charCodeAt(0)] = s;
  }
  return table;
})();

/** The value of a hex digit, or a large negative number that keeps any OR of shifted digits negative. */
function hex(c: number): number {
  if (c >= DIGIT_0 && c <= DIGIT_9) return c - DIGIT_0;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -0x10000;
}

/** UTF-8 length of a string; a lone surrogate counts 3 bytes, as TextEncoder would encode U+FFFD. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2; // a pair: 2 code units, 4 bytes
        i++;
        continue;
      }
    }
    n += 2;
  }
  return n;
}

function limit(name: keyof JsonLimits, value: number): number {
  if (typeof value !== 'number' || !(value >= 0)) {
    throw new ConfigError(`jsonLimits.${name}`, 'must be a number >= 0');
  }
  return value;
}
