import { recordAdminAction } from '../audit/admin-action.js';
import { openKeyStore } from '../stores/key-store.js';
import { parseCommand } from './args.js';
import { keyStorePath, loadCliConfig } from './context.js';
import { parseDuration } from './duration.js';
import { CliError, printJson, printTable } from './output.js';

export const KEYS_HELP = `Usage: rampart keys <command> [options]

Commands:
  create --name N --scopes "mcp:read mcp:write" [--user U] [--expires 30d]
                        Mint a key for user U (default "admin"; created if missing).
                        The key is printed once and never again.
  list                  List keys (id, name, user, scopes, state); never the keys themselves.
  revoke ID             Revoke a key at once.
  rotate ID [--grace 24h]
                        Mint a replacement; the old key keeps working for the grace period.

Options:
  --config FILE         Configuration file (default ./rampart.yaml if present)
  --json                Machine-readable output
`;

/** `rampart keys …` */
export async function keysCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(
    argv,
    {
      name: { type: 'string' },
      scopes: { type: 'string' },
      user: { type: 'string' },
      expires: { type: 'string' },
      grace: { type: 'string' },
    },
    KEYS_HELP,
  );
  if (!parsed) return;
  const { command: sub, values } = parsed;
  const [id] = parsed.args;
  const config = loadCliConfig(values.config);
  const store = await openKeyStore(keyStorePath(config));
  try {
    const keys = store.keys;
    switch (sub) {
      case 'create': {
        if (!values.name) throw new CliError('--name is required', 2);
        if (!values.scopes) throw new CliError('--scopes is required, e.g. --scopes "mcp:read"', 2);
        const userId = values.user ?? 'admin';
        if (!(await keys.getUser(userId))) {
          await keys.createUser(userId, []);
          await recordAdminAction(config, 'user.created', { userId, roles: [] });
        }
        const expiresAt = values.expires ? Date.now() + parseDuration(values.expires) : undefined;
        const { record, key } = await keys.createKey({
          name: values.name,
          userId,
          scopes: values.scopes.split(/\s+/).filter(Boolean),
          ...(expiresAt ? { expiresAt } : {}),
        });
        await recordAdminAction(config, 'key.created', {
          keyId: record.id,
          name: record.name,
          userId,
          scopes: record.scopes,
          expiresAt: expiresAt ?? null,
        });
        if (values.json) printJson({ ...record, key });
        else {
          process.stdout.write(`Created ${record.id} for ${userId} (${record.scopes.join(' ')})\n`);
          process.stdout.write(`Key (shown once, store it now):\n  ${key}\n`);
        }
        return;
      }
      case 'list': {
        const list = await keys.listKeys();
        if (values.json) return printJson(list);
        printTable(
          list.map((k) => ({
            ...k,
            state: keyState(k),
            expires: k.expiresAt ? new Date(k.expiresAt).toISOString() : null,
          })),
          ['id', 'name', 'userId', 'scopes', 'state', 'expires', 'displayPrefix'],
        );
        return;
      }
      case 'revoke': {
        if (!id) throw new CliError('usage: rampart keys revoke ID', 2);
        if (!(await keys.revokeKey(id))) throw new CliError(`no active key ${id}`);
        await recordAdminAction(config, 'key.revoked', { keyId: id });
        if (values.json) printJson({ id, revoked: true });
        else process.stdout.write(`Revoked ${id}\n`);
        return;
      }
      case 'rotate': {
        if (!id) throw new CliError('usage: rampart keys rotate ID [--grace 24h]', 2);
        const graceMs = values.grace ? parseDuration(values.grace) : 24 * 3_600_000;
        const { record, key } = await keys.rotateKey(id, graceMs);
        await recordAdminAction(config, 'key.rotated', { keyId: id, newKeyId: record.id, graceMs });
        if (values.json) printJson({ ...record, key, replaces: id, graceMs });
        else {
          process.stdout.write(
            `Rotated ${id} -> ${record.id}; ${id} keeps working for ${values.grace ?? '24h'}\n`,
          );
          process.stdout.write(`New key (shown once, store it now):\n  ${key}\n`);
        }
        return;
      }
      default:
        throw new CliError(`unknown command "keys ${sub}" (see rampart keys --help)`, 2);
    }
  } finally {
    await store.close();
  }
}

function keyState(k: {
  revokedAt?: number | null;
  expiresAt?: number | null;
  graceUntil?: number | null;
}): string {
  const now = Date.now();
  if (k.revokedAt) return 'revoked';
  if (k.graceUntil) return k.graceUntil > now ? 'rotating' : 'rotated';
  if (k.expiresAt && k.expiresAt <= now) return 'expired';
  return 'active';
}
