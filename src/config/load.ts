import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { configSchema, type RampartConfigInput, type ResolvedConfig } from './schema.js';

/**
 * Validates a configuration object and returns it resolved (defaults applied) and deeply frozen.
 *
 * @throws ConfigError naming the path of the first bad setting, with every problem in the message.
 */
export function resolveConfig(input: RampartConfigInput | undefined): ResolvedConfig {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) throw configErrorFrom(result.error);
  return deepFreeze(result.data);
}

/**
 * Reads and validates a YAML (or JSON) configuration file.
 *
 * @throws ConfigError for unreadable files, YAML syntax errors (with line), duplicate keys and every
 *   schema violation.
 */
export function loadConfigFile(file: string): ResolvedConfig {
  return resolveConfig(readConfigFile(file));
}

/** Parses a configuration file without validating it against the schema. */
export function readConfigFile(file: string): RampartConfigInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError('', `cannot read config file ${file}`, { cause });
  }
  // uniqueKeys: a duplicated setting is a mistake, not "last one wins".
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, version: '1.2' });
  const first = doc.errors[0];
  if (first) throw new ConfigError('', `${file}: ${first.message}`);
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('', `${file}: the top level must be a mapping`);
  }
  return value as RampartConfigInput;
}

function configErrorFrom(error: z.ZodError): ConfigError {
  const lines = error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const first = error.issues[0];
  return new ConfigError(
    first ? formatPath(first.path) : '',
    `invalid configuration\n  ${lines.join('\n  ')}`,
  );
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return (
    path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') ||
    '(root)'
  );
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
