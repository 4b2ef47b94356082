import type { Kysely } from 'kysely';
import { z } from 'zod';
import { tailAuditLog } from '../audit/read.js';
import { createFileSandbox } from '../data/files/index.js';
import { createOwnedTables } from '../data/sql/index.js';
import { defineTool, type Tool } from '../tools/index.js';
import type { DemoDb } from './db.js';

/**
 * The seed's example tools, made real: every data tool sees only the caller's rows, internal
 * columns never leave, and file reads stay inside the docs folder.
 */
export function createDemoTools(options: {
  db: Kysely<DemoDb>;
  docsDir: string;
  /** The audit log `audit_tail` reads; without it the tool is left out. */
  auditFile?: string | undefined;
}): Tool[] {
  const tables = createOwnedTables({
    db: options.db,
    tables: {
      users: { ownerColumn: 'owner', columns: ['id', 'name', 'email'], hiddenColumns: ['internal_notes'] },
      orders: {
        ownerColumn: 'owner',
        columns: ['id', 'product', 'quantity', 'total_cents', 'status'],
        hiddenColumns: ['internal_margin'],
      },
      products: {
        ownerColumn: 'owner',
        columns: ['id', 'name', 'price_cents', 'stock'],
        hiddenColumns: ['internal_cost'],
      },
    },
  });
  const files = createFileSandbox({ root: options.docsDir, allowedExtensions: ['.md', '.txt'] });
  const tableName = z.enum(tables.tableNames as [string, ...string[]]);

  return [
    defineTool({
      name: 'whoami',
      description: 'Shows who you are authenticated as: subject, scopes and roles.',
      scope: 'mcp:read',
      readOnly: true,
      input: z.object({}),
      handler: (_args, { principal }) => ({
        subject: principal.subject,
        issuer: principal.issuer,
        authMethod: principal.authMethod,
        scopes: [...principal.scopes],
        roles: [...principal.roles],
      }),
    }),
    defineTool({
      name: 'list_items',
      description: 'Lists your own rows of a table (users, orders or products).',
      scope: 'mcp:read',
      readOnly: true,
      input: z.object({ table: tableName, limit: z.number().int().min(1).max(1000).default(100) }),
      handler: async ({ table, limit }, { principal }) => ({
        rows: await tables.list(principal.subject, table, limit),
      }),
    }),
    defineTool({
      name: 'query_data',
      description:
        'Queries your own rows with filters (eq, ne, lt, gt, like, in). Values are bound as parameters; LIKE matches literally.',
      scope: 'mcp:read',
      readOnly: true,
      input: tables.filterSchema(),
      handler: async (input, { principal }) => ({ rows: await tables.query(principal.subject, input) }),
    }),
    defineTool({
      name: 'delete_item',
      description: 'Deletes one of your own rows by id.',
      scope: 'mcp:write',
      destructive: true,
      idempotent: true,
      input: z.object({ table: tableName, id: z.number().int().min(1) }),
      handler: async ({ table, id }, { principal }) =>
        (await tables.deleteOwned(principal.subject, table, id))
          ? { deleted: true, table, id }
          : { deleted: false, table, id, reason: 'no such row of yours' },
    }),
    defineTool({
      name: 'purge_all',
      description: 'Deletes every row of a table, for all users. Admins only.',
      scope: 'mcp:admin',
      roles: ['admin'],
      destructive: true,
      rateLimit: '5/hour',
      input: z.object({ table: tableName, confirm: z.literal(true) }),
      handler: async ({ table }) => ({ purged: await tables.purge(table), table }),
    }),
    ...(options.auditFile ? [auditTailTool(options.auditFile)] : []),
    defineTool({
      name: 'read_file',
      description: 'Reads a Markdown or text file from the documentation folder.',
      scope: 'mcp:read',
      readOnly: true,
      input: z.object({ path: z.string().min(1).max(512) }),
      handler: async ({ path }) => {
        const file = await files.read(path);
        return { content: [{ type: 'text', text: file.content }] };
      },
    }),
  ];
}

/** `audit_tail`: the latest audit records, for admins (scope mcp:admin and the admin role). */
function auditTailTool(file: string): Tool {
  return defineTool({
    name: 'audit_tail',
    description:
      'Shows the latest audit records, optionally only one outcome, tool or principal. Reads back at most 64 MiB of the log (scanLimitReached: true when it stopped there with fewer records). Admins only.',
    scope: 'mcp:admin',
    roles: ['admin'],
    readOnly: true,
    input: z.object({
      lines: z.number().int().min(1).max(200).default(20),
      outcome: z.enum(['allow', 'deny', 'error']).optional(),
      tool: z.string().max(128).optional(),
      principal: z.string().max(256).optional(),
    }),
    handler: async ({ lines, outcome, tool, principal }) => {
      const { records, truncated } = await tailAuditLog(file, { outcome, tool, principal }, lines);
      // The read stops at a byte limit (64 MiB): older matching records may lie beyond it.
      return { records, scanLimitReached: truncated };
    },
  });
}
