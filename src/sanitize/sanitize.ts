import { rememberedTest } from '../core/remembered.js';
import type { ToolResult } from '../tools/define-tool.js';
import type { RedactionRule } from './rules.js';
import { isSecretField } from './secret-fields.js';

/** Options of {@link createSanitizer}. */
export interface SanitizerOptions {
  readonly rules: readonly RedactionRule[];
  /** Most characters of text a result may carry (its strings and keys together, binary data aside). */
  readonly maxChars: number;
}

/** What a sanitizer did to one result, for logs and metrics. */
export interface SanitizeReport {
  /** Ids of the rules that matched; `secret-field` for values emptied for their field's name. */
  readonly redacted: readonly string[];
  readonly controlCharsRemoved: number;
  /** Text was cut at the size cap, or a part nested too deep was dropped. */
  readonly truncated: boolean;
}

/** Cleans tool output before it leaves. */
export interface Sanitizer {
  /**
   * A cleaned copy of a tool result, resource read or prompt, and what was done; the result
   * itself when nothing was to do. Throws what `JSON.stringify` throws (a BigInt, a cycle) for a
   * value that could not be sent anyway.
   */
  result(result: ToolResult | Record<string, unknown>): {
    value: Record<string, unknown>;
    report: SanitizeReport;
  };
  /** Every string and key of a listing (tool descriptions, schemas) cleaned; nothing cut. */
  listing<T>(value: T): { value: T; report: SanitizeReport };
  /** One string, cleaned (rules and control characters; no length cap). */
  text(value: string): string;
}

// ANSI escape sequences (CSI, OSC, and single-character escapes), in their 7-bit and 8-bit forms.
// Terminal escapes in tool output can rewrite what a human reviewer sees.
const ANSI =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it removes.
  /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|(?:\u001b\]|\u009d)[^\u0007\u001b\u009c\u009d]*(?:\u0007|\u009c|\u001b\\)|\u001b[@-Z\\-_]/g;
// Then the C0 controls other than tab and newline, DEL, the C1 controls, and the bidirectional
// embeddings, overrides and isolates that can make text read differently from what it holds.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it removes.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the cheap test before the two above.
const ANY_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Deeper parts of a result are dropped: the walk must end, and no real result nests so deep. */
const MAX_DEPTH = 64;
/** What stands in for a part nested deeper than {@link MAX_DEPTH}. */
export const TOO_DEEP = '[removed: nested too deep]';
/** What a string under a credential's field name becomes. */
export const SECRET_FIELD_VALUE = '[REDACTED]';
/**
 * How far past the remaining budget a string is cleaned before it is cut: any secret shorter than
 * this that straddles the cut is still seen whole. (Private keys, longer, are redacted from their
 * BEGIN line to the end of the string when their END line is missing.)
 */
const CUT_SLACK = 4096;
/** Values of these fields name things (`type`, `uri`…): kept whole so the result stays valid MCP. */
const NAMING_FIELDS = new Set(['type', 'mimeType', 'uri', 'name', 'role']);
/** A naming field longer than this is text like any other, and may be cut. */
const MAX_NAMING_CHARS = 256;

/** The marker that ends the cut text; says how much was cut from the whole result. */
export function truncationMarker(cut: number): string {
  return `…[truncated ${cut} characters]`;
}

interface Report {
  redacted: Set<string>;
  control: number;
}

/**
 * Builds a sanitizer. Every string and key of a result goes through the redaction rules and loses
 * ANSI escapes and control characters; strings under credential field names (`password`,
 * `client_secret`, …) are replaced whole; base64 payloads (`data` of image and audio content,
 * `blob` of resource contents) are left as they are. Then the text budget: strings are counted in
 * order, the one that crosses it is cut and ends with one marker for the whole result, and later
 * text is emptied. Names (`type`, `uri`, `mimeType`…) and keys are never cut, so the result keeps
 * its shape and stays valid MCP.
 */
export function createSanitizer(options: SanitizerOptions): Sanitizer {
  const { rules, maxChars } = options;
  // One test of all hints instead of one per rule: output rarely holds anything a rule looks for.
  const hinted = rules.filter((r) => r.hint !== undefined);
  const unhinted = rules.filter((r) => r.hint === undefined);
  // Each distinct hint once: rules that share one (a key's head and its tail) cost one alternative.
  const distinct = [...new Set(hinted.map((r) => r.hint))];
  const hints = distinct.length > 0 ? new RegExp(distinct.map((h) => `(?:${h})`).join('|'), 'i') : undefined;

  /** Whether a string may need cleaning: control characters, a rule's hint, or an unhinted rule. */
  function suspect(value: string): boolean {
    if (ANY_CONTROL.test(value) || hints?.test(value)) return true;
    for (const rule of unhinted) {
      rule.pattern.lastIndex = 0;
      if (rule.pattern.test(value)) return true;
    }
    return false;
  }

  // Keys repeat from result to result: whether cleaning changes one is remembered (a key that
  // merely holds a hint, such as `input_tokens`, must not cost every result a copy).
  const keyChanges = rememberedTest(
    (key) => suspect(key) && clean(key, { redacted: new Set(), control: 0 }) !== key,
  );

  /**
   * The text budget left after `value` if nothing in it needs work, or -1 if something does (or
   * the budget runs out). Allocates nothing: the common result leaves as it came.
   */
  function scan(value: unknown, budget: number, depth: number): number {
    if (typeof value === 'string') {
      const left = budget - value.length;
      return left < 0 || suspect(value) ? -1 : left;
    }
    if (value === null || typeof value !== 'object') return budget;
    if (depth >= MAX_DEPTH || !isPlain(value)) return -1;
    if (Array.isArray(value)) {
      for (const member of value) {
        budget = scan(member, budget, depth + 1);
        if (budget < 0) return -1;
      }
      return budget;
    }
    const binary = binaryField(value as Record<string, unknown>);
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      budget -= key.length;
      if (budget < 0 || keyChanges(key)) return -1;
      if (key === binary) continue;
      const member = (value as Record<string, unknown>)[key];
      if (typeof member === 'string' && member !== '' && isSecretField(key)) return -1;
      budget = scan(member, budget, depth + 1);
      if (budget < 0) return -1;
    }
    return budget;
  }

  function clean(value: string, report: Report): string {
    let out = value;
    if (ANY_CONTROL.test(out)) {
      const before = out.length;
      out = out.replace(ANSI, '').replace(CONTROL, '');
      report.control += before - out.length;
    }
    for (const rule of rules) {
      rule.pattern.lastIndex = 0;
      if (!rule.pattern.test(out)) continue;
      rule.pattern.lastIndex = 0;
      out = out.replace(rule.pattern, rule.replacement);
      report.redacted.add(rule.id);
    }
    return out;
  }

  function cleanKey(key: string, report: Report): string {
    return keyChanges(key) ? clean(key, report) : key;
  }

  return {
    text: (value) => (suspect(value) ? clean(value, { redacted: new Set(), control: 0 }) : value),

    listing(value) {
      const { value: out, report } = rewrite(value, Number.POSITIVE_INFINITY);
      return { value: out as typeof value, report };
    },

    result(result) {
      if (scan(result, maxChars, 0) >= 0) return { value: result as Record<string, unknown>, report: CLEAN };
      const { value, report } = rewrite(result, maxChars);
      return { value: value as Record<string, unknown>, report };
    },
  };

  /** A cleaned copy of `input` with at most `limit` characters of text, and what was done. */
  function rewrite(input: unknown, limit: number): { value: unknown; report: SanitizeReport } {
    const report: Report = { redacted: new Set(), control: 0 };
    const state = { deep: false };
    let budget = limit;
    let cut = 0;
    // Where the first cut string is, to end it with the marker once the whole cut is known.
    let marked: { holder: Record<string, unknown> | unknown[]; key: string | number } | undefined;
    const member = (
      holder: Record<string, unknown> | unknown[],
      key: string | number,
      value: unknown,
      depth: number,
      naming: boolean,
    ): void => {
      const before = cut;
      const out = walk(value, depth, naming);
      (holder as Record<string | number, unknown>)[key] = out;
      if (marked === undefined && cut > before && typeof out === 'string') marked = { holder, key };
    };

    /** Counts one string against the budget; returns what is kept of it. */
    const budgeted = (value: string, naming: boolean): string => {
      if (naming && value.length <= MAX_NAMING_CHARS) {
        const s = suspect(value) ? clean(value, report) : value;
        budget -= s.length;
        return s;
      }
      if (budget <= 0) {
        cut += value.length;
        return '';
      }
      // Clean a bounded stretch past the budget: the rest is cut anyway, and rules cost time.
      const stretch = value.length > budget + CUT_SLACK ? value.slice(0, budget + CUT_SLACK) : value;
      let s = suspect(stretch) ? clean(stretch, report) : stretch;
      cut += value.length - stretch.length;
      if (s.length > budget) {
        const keep = splitSafe(s, budget);
        cut += s.length - keep;
        s = s.slice(0, keep);
      }
      budget -= s.length;
      return s;
    };

    const walk = (value: unknown, depth: number, naming: boolean): unknown => {
      if (typeof value === 'string') return budgeted(value, naming);
      if (value === null || typeof value !== 'object') return value;
      if (depth >= MAX_DEPTH) {
        state.deep = true;
        return TOO_DEEP;
      }
      const plain = isPlain(value) ? value : toPlain(value);
      if (plain === null || typeof plain !== 'object') return walk(plain, depth, naming);
      if (Array.isArray(plain)) {
        const items: unknown[] = new Array(plain.length);
        for (let i = 0; i < plain.length; i++) member(items, i, plain[i], depth + 1, false);
        return items;
      }
      const binary = binaryField(plain as Record<string, unknown>);
      const out: Record<string, unknown> = Object.create(null);
      for (const [key, value] of Object.entries(plain)) {
        let name = cleanKey(key, report);
        while (Object.hasOwn(out, name)) name = `${name}~`;
        budget -= name.length;
        if (key === binary) out[name] = value;
        else if (typeof value === 'string' && value !== '' && isSecretField(key)) {
          out[name] = SECRET_FIELD_VALUE;
          report.redacted.add('secret-field');
        } else member(out, name, value, depth + 1, NAMING_FIELDS.has(key));
      }
      return out;
    };

    const value = walk(input, 0, false);
    if (marked) {
      const holder = marked.holder as Record<string | number, unknown>;
      holder[marked.key] = `${holder[marked.key]}${truncationMarker(cut)}`;
    }
    return { value, report: finish(report, state.deep || cut > 0) };
  }
}

function finish(report: Report, truncated: boolean): SanitizeReport {
  if (report.redacted.size === 0 && report.control === 0 && !truncated) return CLEAN;
  return { redacted: [...report.redacted], controlCharsRemoved: report.control, truncated };
}

/** The report of a result that needed nothing. */
const CLEAN: SanitizeReport = Object.freeze({ redacted: [], controlCharsRemoved: 0, truncated: false });

/**
 * An ordinary object or array, which serializes as its own enumerable members. Anything else (a
 * `URL`, a `Date`, a `Buffer`, a class instance, an object with `toJSON`) serializes as something
 * else, which is what must be cleaned.
 */
function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null && proto !== Array.prototype) return false;
  return typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/** The value as `JSON.stringify` will send it. */
function toPlain(value: object): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}

/**
 * The member of a content or resource object that holds base64 (`data` of image and audio content,
 * `blob` of resource contents): not text, neither rewritten nor counted.
 */
function binaryField(value: Record<string, unknown>): string | undefined {
  if ((value.type === 'image' || value.type === 'audio') && typeof value.data === 'string') return 'data';
  if (typeof value.blob === 'string' && typeof value.uri === 'string') return 'blob';
  return undefined;
}

/** `at`, or one less when cutting there would split a surrogate pair. */
function splitSafe(text: string, at: number): number {
  const unit = text.charCodeAt(at - 1);
  return at > 0 && unit >= 0xd800 && unit <= 0xdbff ? at - 1 : at;
}
