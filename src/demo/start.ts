import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordAdminAction } from '../audit/admin-action.js';
import { auditLogPath } from '../audit/open.js';
import type { ResolvedConfig } from '../config/index.js';
import { setUserPassword } from '../oauth/users.js';
import { openKeyStore } from '../stores/key-store.js';
import type { Tool } from '../tools/index.js';
import { DEMO_USERS, openDemoDb } from './db.js';
import { createDemoTools } from './tools.js';

/** The docs folder shipped with the package, the only place `read_file` reads. */
export const DEMO_DOCS_DIR = fileURLToPath(new URL('../../demo/docs', import.meta.url));

/** A ready demo: its tools, the keys minted on first start (shown once), and a close function. */
export interface Demo {
  readonly tools: Tool[];
  readonly mintedKeys: ReadonlyArray<{ label: string; user: string; scopes: string; key: string }>;
  /** Sign-in passwords for the authorization server's login page, set on first start (shown once). */
  readonly mintedPasswords: ReadonlyArray<{ user: string; password: string }>;
  close(): Promise<void>;
}

/**
 * Prepares the demo on embedded defaults: the SQLite demo database under `storage.dataDir`
 * (created and seeded on first start), its users, and on first start an admin key and a
 * read-only key.
 */
export async function prepareDemo(config: ResolvedConfig): Promise<Demo> {
  const db = await openDemoDb(join(config.storage.dataDir, 'demo.db'));
  const store = await openKeyStore(join(config.storage.dataDir, 'rampart.db'));
  const mintedKeys: { label: string; user: string; scopes: string; key: string }[] = [];
  const mintedPasswords: { user: string; password: string }[] = [];
  try {
    const users = await store.keys.listUsers();
    if (users.length === 0) {
      for (const user of DEMO_USERS) await store.keys.createUser(user.id, [...user.roles]);
      const admin = await store.keys.createKey({
        name: 'demo admin',
        userId: 'alice',
        scopes: ['mcp:read', 'mcp:write', 'mcp:admin'],
      });
      mintedKeys.push({
        label: 'admin',
        user: 'alice',
        scopes: 'mcp:read mcp:write mcp:admin',
        key: admin.key,
      });
      const reader = await store.keys.createKey({
        name: 'demo read-only',
        userId: 'bob',
        scopes: ['mcp:read'],
      });
      mintedKeys.push({ label: 'read-only', user: 'bob', scopes: 'mcp:read', key: reader.key });
      for (const user of DEMO_USERS) {
        await recordAdminAction(config, 'user.created', { userId: user.id, roles: [...user.roles] });
        // 128 bits, typeable: the login page is how a person approves an MCP client.
        const password = randomBytes(16).toString('base64url');
        await setUserPassword(store.db, user.id, password);
        mintedPasswords.push({ user: user.id, password });
      }
      for (const { record } of [admin, reader]) {
        await recordAdminAction(config, 'key.created', {
          keyId: record.id,
          name: record.name,
          userId: record.userId,
          scopes: record.scopes,
          expiresAt: null,
        });
      }
    }
  } finally {
    await store.close();
  }
  return {
    tools: createDemoTools({
      db,
      docsDir: DEMO_DOCS_DIR,
      auditFile: config.audit.enabled && config.audit.sink === 'file' ? auditLogPath(config) : undefined,
    }),
    mintedKeys,
    mintedPasswords,
    close: () => db.destroy(),
  };
}
