import { recordAdminAction } from '../audit/admin-action.js';
import { openSigningKeys } from '../oauth/signing-keys.js';
import { openKeyStore } from '../stores/key-store.js';
import { parseCommand } from './args.js';
import { keyStorePath, loadCliConfig } from './context.js';
import { CliError, printJson } from './output.js';

export const OAUTH_HELP = `Usage: rampart oauth <command> [options]

Commands:
  rotate-key     Make a new signing key for access tokens. The old key stays published for
                 24 hours, so the tokens it signed keep working until they expire; running
                 servers pick the new key up within a minute.
  revoke-client CLIENT_ID
                 Revoke every grant of a client: its refresh tokens stop at once, its access
                 tokens at their next verification (at most auth.jwt.cacheMaxTtlSeconds later).

Options:
  --config FILE  Configuration file (default ./rampart.yaml if present)
  --json         Machine-readable output
`;

/** `rampart oauth …` */
export async function oauthCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(argv, {}, OAUTH_HELP);
  if (!parsed) return;
  const { command: sub, values } = parsed;
  const config = loadCliConfig(values.config);
  const store = await openKeyStore(keyStorePath(config));
  try {
    switch (sub) {
      case 'rotate-key': {
        const keys = await openSigningKeys(store.db);
        const kid = await keys.rotate();
        await recordAdminAction(config, 'oauth.key.rotated', { kid });
        return values.json ? printJson({ kid }) : void process.stdout.write(`New signing key ${kid}\n`);
      }
      case 'revoke-client': {
        const [clientId] = parsed.args;
        if (!clientId) throw new CliError('usage: rampart oauth revoke-client CLIENT_ID', 2);
        const { createSqlOAuthStore } = await import('../oauth/store.js');
        const oauth = createSqlOAuthStore(store.db);
        const grants = await store.db
          .selectFrom('oauth_grants')
          .select('id')
          .where('client_id', '=', clientId)
          .where('revoked_at', 'is', null)
          .execute();
        for (const grant of grants) await oauth.revokeGrant(grant.id);
        await recordAdminAction(config, 'oauth.grant.revoked', { clientId, grants: grants.length });
        return values.json
          ? printJson({ clientId, revokedGrants: grants.length })
          : void process.stdout.write(`Revoked ${grants.length} grant(s) of ${clientId}\n`);
      }
      default:
        throw new CliError(`unknown command "oauth ${sub}" (see rampart oauth --help)`, 2);
    }
  } finally {
    await store.close();
  }
}
