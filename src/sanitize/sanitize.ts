import type { ToolResult } from '../tools/define-tool.js';
import type { RedactionRule } from './rules.js';

/** Options of {@link createSanitizer}. */
export interface SanitizerOptions {
  readonly rules: readonly RedactionRule[];
  /** Most characters of text a result may carry (all its strings together). */
  readonly maxChars: number;
}

/** What a sanitizer did to one result, for logs and metrics. */
export interface SanitizeReport {
  /** Ids of the rules that matched. */
  readonly redacted: readonly string[];
  readonly controlCharsRemoved: number;
  readonly truncated: boolean;
}

/** Cleans tool output before it leaves. */
export interface Sanitizer {
  /** A cleaned copy of a tool result, and what was done; the result itself when nothing was to do. */
  result(result: ToolResult | Record<string, unknown>): {
    value: Record<string, unknown>;
    report: SanitizeReport;
  };
  /** One string, cleaned (rules and control characters; no length cap). */
  text(value: string): string;
}

// ANSI escape sequences (CSI, OSC, and single-character escapes), then the C0 controls other than
// tab and newline, and DEL. Terminal escapes in tool output can rewrite what a human reviewer sees.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it removes.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what it removes.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the cheap test before the two above.
const ANY_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** The marker that ends a cut string; says how much was cut. */
export function truncationMarker(cut: number): string {
  return `…[truncated ${cut} characters]`;
}

/**
 * Builds a sanitizer: every string of a result (text content, resource text, structured content)
 * goes through the redaction rules and loses ANSI escapes and control characters; then strings are
 * cut, in order, once the result's text budget is spent, each cut marked with how much was cut.
 * Keys, numbers and the result's shape are kept, so structured content still matches its schema
 * as far as a cut allows.
 */
export function createSanitizer(options: SanitizerOptions): Sanitizer {
  const { rules, maxChars } = options;
  // One test of all hints instead of one per rule: output rarely holds anything a rule looks for.
  const hinted = rules.filter((r) => r.hint !== undefined);
  const unhinted = rules.filter((r) => r.hint === undefined);
  const hints = hinted.length > 0 ? new RegExp(hinted.map((r) => `(?:${r.hint})`).join('|'), 'i') : undefined;

  /** Whether a string may need cleaning: control characters, a rule's hint, or an unhinted rule. */
  function suspect(value: string): boolean {
    if (ANY_CONTROL.test(value) || hints?.test(value)) return true;
    for (const rule of unhinted) {
      rule.pattern.lastIndex = 0;
      if (rule.pattern.test(value)) return true;
    }
    return false;
  }

  /**
   * The text budget left after `value` if no string in it needs cleaning, or -1 if one does (or
   * the budget runs out). Allocates nothing: the common result leaves as it came.
   */
  function scan(value: unknown, budget: number, depth: number): number {
    if (typeof value === 'string') {
      const left = budget - value.length;
      return left < 0 || suspect(value) ? -1 : left;
    }
    if (value === null || typeof value !== 'object' || depth > 64) return budget;
    if (Array.isArray(value)) {
      for (const member of value) {
        budget = scan(member, budget, depth + 1);
        if (budget < 0) return -1;
      }
      return budget;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key) || key === 'data' || key === 'blob') continue;
      budget = scan((value as Record<string, unknown>)[key], budget, depth + 1);
      if (budget < 0) return -1;
    }
    return budget;
  }

  function clean(value: string, report: { redacted: Set<string>; control: number }): string {
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

  return {
    text: (value) => (suspect(value) ? clean(value, { redacted: new Set(), control: 0 }) : value),
    result(result) {
      if (scan(result, maxChars, 0) >= 0) return { value: result as Record<string, unknown>, report: CLEAN };
      const report = { redacted: new Set<string>(), control: 0 };
      let budget = maxChars;
      let truncated = false;
      const walk = (value: unknown, depth: number): unknown => {
        if (typeof value === 'string') {
          let s = clean(value, report);
          if (s.length > budget) {
            truncated = true;
            const keep = Math.max(0, budget);
            s = s.slice(0, keep) + truncationMarker(s.length - keep);
          }
          budget -= s.length;
          return s;
        }
        if (value === null || typeof value !== 'object' || depth > 64) return value;
        if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
        // Null prototype: an own key named __proto__ in handler output stays a plain key.
        const out: Record<string, unknown> = Object.create(null);
        for (const [key, member] of Object.entries(value)) {
          // Binary payloads (image, audio, blob) are base64 data, not text: neither cut nor rewritten.
          out[key] = key === 'data' || key === 'blob' ? member : walk(member, depth + 1);
        }
        return out;
      };
      const value = walk(result, 0) as Record<string, unknown>;
      return {
        value,
        report: { redacted: [...report.redacted], controlCharsRemoved: report.control, truncated },
      };
    },
  };
}

/** The report of a result that needed nothing. */
const CLEAN: SanitizeReport = Object.freeze({ redacted: [], controlCharsRemoved: 0, truncated: false });
