import type { ErrorCode } from '../core/error-codes.js';
import { ConfigError, RampartError } from '../core/errors.js';

/** Limits applied while a request body is parsed. */
export interface JsonLimits {
  maxDepth: number;
  maxElements: number;
  maxStringBytes?: number;
  maxKeyBytes?: number;
}

export const DEFAULT_JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({
  maxDepth: 64,
  maxElements: 100_000,
  maxKeyBytes: 1024,
});

const DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function parseJsonBody(body: Uint8Array, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) {
    throw new RampartError('ERR_REQUEST_INVALID_JSON');
  }
  let text: string;
  try {
    text = DECODER.decode(body);
  } catch (cause) {
    throw new RampartError('ERR_REQUEST_INVALID_UTF8', { cause });
  }
  return parseJsonText(text, limits);
}

export function parseJsonText(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS): unknown {
  return new Parser(text, limits).parse();
}

type Container = unknown[] | Record<string, unknown>;

class Parser {
  pos = 0;
  elements = 0;
  readonly len: number;
  readonly maxDepth: number;
  readonly maxElements: number;
  readonly maxStringBytes: number;
  readonly maxKeyBytes: number;

  constructor(
    readonly text: string,
    limits: JsonLimits,
  ) {
    this.len = text.length;
    this.maxDepth = limits.maxDepth;
    this.maxElements = limits.maxElements;
    this.maxStringBytes = limits.maxStringBytes ?? Number.POSITIVE_INFINITY;
    this.maxKeyBytes = limits.maxKeyBytes ?? 1024;
  }

  parse(): unknown {
    const stack: Container[] = [];
    const keys: string[] = [];
    let value: unknown;
    for (;;) {
      const c = this.skip();
      if (++this.elements > this.maxElements) this.fail('ERR_REQUEST_TOO_MANY_ELEMENTS');
      if (c === 0x7b) {
        if (stack.length >= this.maxDepth) this.fail('ERR_REQUEST_TOO_DEEP');
        this.pos++;
        const obj: Record<string, unknown> = {};
        if (this.skip() === 0x7d) {
          this.pos++;
          value = obj;
        } else {
          keys.push(this.key(obj));
          stack.push(obj);
          continue;
        }
      } else if (c === 0x5b) {
        if (stack.length >= this.maxDepth) this.fail('ERR_REQUEST_TOO_DEEP');
        this.pos++;
        const arr: unknown[] = [];
        if (this.skip() === 0x5d) {
          this.pos++;
          value = arr;
        } else {
          keys.push('');
          stack.push(arr);
          continue;
        }
      } else if (c === 0x22) {
        value = this.string(this.maxStringBytes);
      } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
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
      // The value is complete: attach it to its parent, closing as many containers as end here.
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
          if (next === 0x2c) {
            this.pos++;
            break;
          }
          if (next !== 0x5d) this.fail('ERR_REQUEST_INVALID_JSON');
        } else {
          container[keys[top]!] = value;
          if (next === 0x2c) {
            this.pos++;
            this.skip();
            keys[top] = this.key(container);
            break;
          }
          if (next !== 0x7d) this.fail('ERR_REQUEST_INVALID_JSON');
        }
        this.pos++;
        value = container;
        stack.pop();
        keys.pop();
      }
    }
  }

  /** Skips JSON whitespace (RFC 8259 §2: space, tab, LF, CR); returns the next code unit or -1 at the end. */
  skip(): number {
    const text = this.text;
    const len = this.len;
    let pos = this.pos;
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        this.pos = pos;
        return c;
      }
      pos++;
    }
    this.pos = pos;
    return -1;
  }

  key(obj: Record<string, unknown>): string {
    if (this.pos >= this.len || this.text.charCodeAt(this.pos) !== 0x22) this.fail('ERR_REQUEST_INVALID_JSON');
    const key = this.string(this.maxKeyBytes);
    if (
      (key.length === 9 || key.length === 11) &&
      (key === '__proto__' || key === 'constructor' || key === 'prototype')
    ) {
      this.fail('ERR_REQUEST_FORBIDDEN_KEY');
    }
    if (Object.hasOwn(obj, key)) this.fail('ERR_REQUEST_DUPLICATE_KEY');
    if (this.skip() !== 0x3a) this.fail('ERR_REQUEST_INVALID_JSON');
    this.pos++;
    return key;
  }

  string(maxBytes: number): string {
    const text = this.text;
    const len = this.len;
    const start = this.pos + 1;
    for (let pos = start; pos < len; pos++) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        this.pos = pos + 1;
        const s = text.slice(start, pos);
        if (s.length * 3 > maxBytes) this.checkBytes(s, maxBytes);
        return s;
      }
      if (c === 0x5c) return this.escaped(start, pos, maxBytes);
      if (c < 0x20) break;
    }
    return this.fail('ERR_REQUEST_INVALID_JSON');
  }

  escaped(start: number, from: number, maxBytes: number): string {
    const text = this.text;
    const len = this.len;
    let out = text.slice(start, from);
    let chunk = from;
    let pos = from;
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        out += text.slice(chunk, pos);
        this.pos = pos + 1;
        if (out.length * 3 > maxBytes) this.checkBytes(out, maxBytes);
        return out;
      }
      if (c < 0x20) break;
      if (c !== 0x5c) {
        pos++;
        continue;
      }
      out += text.slice(chunk, pos);
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
        const s = ESCAPES[e];
        if (s === undefined) break;
        out += s;
        pos += 2;
      }
      chunk = pos;
    }
    return this.fail('ERR_REQUEST_INVALID_JSON');
  }

  number(first: number): number {
    const text = this.text;
    const start = this.pos;
    let pos = start;
    let c = first;
    if (c === 0x2d) c = text.charCodeAt(++pos);
    let int = 0;
    let digits = 0;
    if (c === 0x30) {
      c = text.charCodeAt(++pos);
      digits = 1;
    } else if (c >= 0x31 && c <= 0x39) {
      do {
        int = int * 10 + (c - 0x30);
        digits++;
        c = text.charCodeAt(++pos);
      } while (c >= 0x30 && c <= 0x39);
    } else {
      this.fail('ERR_REQUEST_INVALID_JSON');
    }
    let exact = digits <= 15;
    if (c === 0x2e) {
      exact = false;
      c = text.charCodeAt(++pos);
      if (!(c >= 0x30 && c <= 0x39)) this.fail('ERR_REQUEST_INVALID_JSON');
      do c = text.charCodeAt(++pos);
      while (c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45) {
      exact = false;
      c = text.charCodeAt(++pos);
      if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++pos);
      if (!(c >= 0x30 && c <= 0x39)) this.fail('ERR_REQUEST_INVALID_JSON');
      do c = text.charCodeAt(++pos);
      while (c >= 0x30 && c <= 0x39);
    }
    this.pos = pos;
    if (exact) return first === 0x2d ? -int : int;
    return Number(text.slice(start, pos));
  }

  checkBytes(s: string, maxBytes: number): void {
    if (utf8Length(s) > maxBytes) {
      this.fail('ERR_REQUEST_TOO_MANY_ELEMENTS');
    }
  }

  fail(code: ErrorCode): never {
    throw new RampartError(code, { cause: new Error(`JSON rejected at offset ${this.pos}`) });
  }
}

const ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -0x10000;
}

function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2;
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}
