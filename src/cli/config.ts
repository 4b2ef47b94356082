import { z } from 'zod';
import { configSchema, readConfigFile, resolveConfig } from '../config/index.js';
import { ConfigError } from '../core/errors.js';
import { findLiteralSecrets } from '../secrets/index.js';
import { parseCommand } from './args.js';
import { DEFAULT_CONFIG_FILE } from './context.js';
import { CliError, printJson } from './output.js';

export const CONFIG_HELP = `Usage: rampart config <command> [options]

Commands:
  check [--config FILE]   Validate a configuration: schema, unknown keys, literal secrets
  schema                  Print the JSON Schema of rampart.yaml (for editor completion)

Options:
  --json                  Machine-readable output
`;

/** `rampart config …` */
export async function configCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, {}, CONFIG_HELP);
  if (!parsed) return;
  const { command: sub, values } = parsed;
  if (sub === 'schema') return printJson(configJsonSchema());
  if (sub !== 'check') throw new CliError(`unknown command "config ${sub}" (see rampart config --help)`, 2);

  const file = values.config ?? DEFAULT_CONFIG_FILE;
  const problems: { path: string; message: string }[] = [];
  try {
    const raw = readConfigFile(file);
    for (const f of findLiteralSecrets(raw)) problems.push({ path: f.path, message: f.reason });
    resolveConfig(raw);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.unshift({ path: error.path, message: error.message });
  }
  if (values.json) printJson({ file, ok: problems.length === 0, problems });
  else if (problems.length === 0) process.stdout.write(`${file}: OK\n`);
  else
    for (const p of problems)
      process.stderr.write(
        `${file}: ${p.message.startsWith(p.path) ? p.message : `${p.path}: ${p.message}`}\n`,
      );
  if (problems.length > 0) throw new CliError('', 1);
}

/** The JSON Schema of the configuration file, as shipped in `schema/rampart.schema.json`. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return { ...schema, title: 'Rampart configuration' };
}
