#!/usr/bin/env node
import { ConfigError } from '../core/errors.js';
import { AUDIT_HELP, auditCommand } from './audit.js';
import { CONFIG_HELP, configCommand } from './config.js';
import { KEYS_HELP, keysCommand } from './keys.js';
import { OAUTH_HELP, oauthCommand } from './oauth.js';
import { CliError } from './output.js';
import { SERVE_HELP, serveCommand } from './serve.js';
import { USERS_HELP, usersCommand } from './users.js';

const HELP = `Usage: rampart <command> [options]

Defense in depth for remote MCP servers.

Commands:
  serve      Start the MCP endpoint (rampart serve --demo for the demo)
  keys       Create, list, revoke and rotate API keys
  users      Manage users, their roles and sign-in passwords
  oauth      Rotate the authorization server's signing key; revoke a client's grants
  config     Check a configuration file; print its JSON Schema
  audit      Verify the hash-chained audit log; show its latest records

Run rampart <command> --help for the options of one command.
`;

const COMMANDS: Readonly<Record<string, (argv: string[]) => Promise<void>>> = {
  serve: serveCommand,
  keys: keysCommand,
  users: usersCommand,
  oauth: oauthCommand,
  config: configCommand,
  audit: auditCommand,
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    if (!command) process.exitCode = 2;
    return;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) throw new CliError(`unknown command "${command}" (see rampart --help)`, 2);
  await run(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliError) {
    if (error.message) process.stderr.write(`rampart: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else if (error instanceof ConfigError) {
    process.stderr.write(`rampart: configuration error: ${error.message}\n`);
    process.exitCode = 1;
  } else if (
    error instanceof TypeError &&
    'code' in error &&
    String(error.code).startsWith('ERR_PARSE_ARGS')
  ) {
    process.stderr.write(`rampart: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`rampart: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
});

export { AUDIT_HELP, CONFIG_HELP, KEYS_HELP, OAUTH_HELP, SERVE_HELP, USERS_HELP };
