import { randomBytes } from 'node:crypto';
import { recordAdminAction } from '../audit/admin-action.js';
import { setUserPassword } from '../oauth/users.js';
import { openKeyStore } from '../stores/key-store.js';
import { parseCommand } from './args.js';
import { keyStorePath, loadCliConfig } from './context.js';
import { CliError, printJson, printTable } from './output.js';

export const USERS_HELP = `Usage: rampart users <command> [options]

Commands:
  add USER [--roles admin,ops]   Add a user (roles apply to all of the user's keys)
  roles USER --roles admin,ops   Replace a user's roles
  password USER --password-stdin Set the sign-in password (login page of the authorization server)
  password USER --generate       Set a generated password and print it once
  list                           List users and their roles
  remove USER                    Remove a user and revoke all of its keys

Options:
  --config FILE                  Configuration file (default ./rampart.yaml if present)
  --json                         Machine-readable output
`;

/** `rampart users …` */
export async function usersCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(
    argv,
    {
      roles: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      generate: { type: 'boolean', default: false },
    },
    USERS_HELP,
  );
  if (!parsed) return;
  const { command: sub, values } = parsed;
  const [user] = parsed.args;
  const roles = (values.roles ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const config = loadCliConfig(values.config);
  const store = await openKeyStore(keyStorePath(config));
  try {
    const keys = store.keys;
    switch (sub) {
      case 'add':
        if (!user) throw new CliError('usage: rampart users add USER [--roles r1,r2]', 2);
        await keys.createUser(user, roles);
        await recordAdminAction(config, 'user.created', { userId: user, roles });
        return values.json ? printJson({ id: user, roles }) : void process.stdout.write(`Added ${user}\n`);
      case 'roles':
        if (!user || values.roles === undefined)
          throw new CliError('usage: rampart users roles USER --roles r1,r2', 2);
        if (!(await keys.setUserRoles(user, roles))) throw new CliError(`no user ${user}`);
        await recordAdminAction(config, 'user.updated', { userId: user, roles });
        return values.json
          ? printJson({ id: user, roles })
          : void process.stdout.write(`Roles of ${user}: ${roles.join(', ') || '(none)'}\n`);
      case 'password': {
        if (!user || values['password-stdin'] === values.generate) {
          throw new CliError('usage: rampart users password USER (--password-stdin | --generate)', 2);
        }
        const password = values.generate ? randomBytes(16).toString('base64url') : await readFirstLine();
        if (password.length < 8) throw new CliError('a password needs at least 8 characters', 2);
        if (!(await setUserPassword(store.db, user, password))) throw new CliError(`no user ${user}`);
        await recordAdminAction(config, 'user.updated', { userId: user, password: 'set' });
        if (values.json) return printJson({ id: user, ...(values.generate ? { password } : {}) });
        return void process.stdout.write(
          values.generate ? `Password of ${user} (shown once): ${password}\n` : `Password of ${user} set\n`,
        );
      }
      case 'list': {
        const users = await keys.listUsers();
        return values.json ? printJson(users) : printTable(users, ['id', 'roles']);
      }
      case 'remove':
        if (!user) throw new CliError('usage: rampart users remove USER', 2);
        if (!(await keys.removeUser(user))) throw new CliError(`no user ${user}`);
        await recordAdminAction(config, 'user.removed', { userId: user });
        return values.json
          ? printJson({ id: user, removed: true })
          : void process.stdout.write(`Removed ${user} and revoked its keys\n`);
      default:
        throw new CliError(`unknown command "users ${sub}" (see rampart users --help)`, 2);
    }
  } finally {
    await store.close();
  }
}

/** The first line of standard input, without its line ending. */
async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if ((chunk as Buffer).includes(0x0a)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}
