import { recordAdminAction } from '../audit/admin-action.js';
import { openKeyStore } from '../stores/key-store.js';
import { parseCommand } from './args.js';
import { keyStorePath, loadCliConfig } from './context.js';
import { CliError, printJson, printTable } from './output.js';

export const USERS_HELP = `Usage: rampart users <command> [options]

Commands:
  add USER [--roles admin,ops]   Add a user (roles apply to all of the user's keys)
  roles USER --roles admin,ops   Replace a user's roles
  list                           List users and their roles
  remove USER                    Remove a user and revoke all of its keys

Options:
  --config FILE                  Configuration file (default ./rampart.yaml if present)
  --json                         Machine-readable output
`;

/** `rampart users …` */
export async function usersCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, { roles: { type: 'string' } }, USERS_HELP);
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
