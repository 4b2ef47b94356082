import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError } from './output.js';

/** The option table of `node:util` parseArgs. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every subcommand group takes. */
export const COMMON = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** The flags of a parsed command, typed from its option table. */
export type CommandValues<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof COMMON & O }>
>['values'];

/** A parsed command line. */
export interface ParsedCommand<O extends Options> {
  readonly command: string;
  readonly args: string[];
  readonly values: CommandValues<O>;
}

/**
 * Parses `rampart <group> <command> [args] [--flags]`. Prints `help` and returns `undefined` for
 * `--help`; prints it and throws a usage error (exit 2) when the command is missing.
 */
export function parseCommand<const O extends Options>(
  argv: string[],
  options: O,
  help: string,
): ParsedCommand<O> | undefined {
  const { values, positionals } = parseArgs<{
    args: string[];
    allowPositionals: true;
    options: typeof COMMON & O;
  }>({ args: argv, allowPositionals: true, options: { ...COMMON, ...options } });
  const [command, ...rest] = positionals;
  const wantsHelp = (values as { help?: boolean }).help === true;
  if (wantsHelp || !command) {
    process.stdout.write(help);
    if (!wantsHelp) throw new CliError('missing command', 2);
    return undefined;
  }
  return { command, args: rest, values };
}
