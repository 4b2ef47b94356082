import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/index.js';
import { ConfigError } from '../core/errors.js';
import { BUILTIN_RULES, type RedactionRule } from './rules.js';
import { createSanitizer, type SanitizeReport } from './sanitize.js';

/** Cleans output on its way out; each copy has the input's shape. */
export interface SanitizeOutput {
  /** A tool result, resource read or prompt: cleaned and capped (`sanitize.maxOutputChars`). */
  <T extends object>(result: T, tool: string, requestId: string): T;
  /** A listing (tools, resources, prompts) or an error's data: cleaned, nothing cut. */
  listing<T>(value: T, what: string, requestId: string): T;
}

/** The output sanitizer from `sanitize`, logging what it redacted (rule ids, never the text). */
export function sanitizerFromConfig(config: ResolvedConfig, logger: Logger): SanitizeOutput | undefined {
  const settings = config.sanitize;
  if (!settings.enabled) return undefined;
  const disabled = new Set(settings.disabledRules);
  for (const id of disabled) {
    if (!BUILTIN_RULES.some((r) => r.id === id)) {
      throw new ConfigError('sanitize.disabledRules', `no built-in rule "${id}"`);
    }
  }
  const rules: RedactionRule[] = [
    ...BUILTIN_RULES.filter((r) => !disabled.has(r.id)),
    ...settings.patterns.map((p) => ({
      id: p.id,
      description: 'from configuration',
      pattern: new RegExp(p.pattern, p.caseInsensitive ? 'gi' : 'g'),
      replacement: p.replacement,
    })),
  ];
  const sanitizer = createSanitizer({ rules, maxChars: settings.maxOutputChars });
  const note = (report: SanitizeReport, tool: string, requestId: string) => {
    if (report.redacted.length > 0 || report.truncated || report.controlCharsRemoved > 0) {
      logger.warn({ reqId: requestId, tool, ...report }, 'tool output sanitized');
    }
  };
  const sanitize = <T extends object>(result: T, tool: string, requestId: string): T => {
    const { value, report } = sanitizer.result(result as Record<string, unknown>);
    note(report, tool, requestId);
    // The walk keeps every key and container: only strings change.
    return value as T;
  };
  return Object.assign(sanitize, {
    listing<T>(value: T, what: string, requestId: string): T {
      const cleaned = sanitizer.listing(value);
      note(cleaned.report, what, requestId);
      return cleaned.value;
    },
  });
}
