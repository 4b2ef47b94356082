import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Generated, Kysely, SqliteDialect } from 'kysely';

/** Rows of the demo tables. Each has an owner and an internal column that never leaves the server. */
export interface DemoDb {
  users: { id: Generated<number>; owner: string; name: string; email: string; internal_notes: string };
  orders: {
    id: Generated<number>;
    owner: string;
    product: string;
    quantity: number;
    total_cents: number;
    status: string;
    internal_margin: number;
  };
  products: {
    id: Generated<number>;
    owner: string;
    name: string;
    price_cents: number;
    stock: number;
    internal_cost: number;
  };
}

/** The demo's users: alice is an admin, bob is not. */
export const DEMO_USERS = [
  { id: 'alice', roles: ['admin'] },
  { id: 'bob', roles: [] as string[] },
] as const;

/** Opens (and on first use creates and seeds) the demo database. */
export async function openDemoDb(path: string): Promise<Kysely<DemoDb>> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<DemoDb>({ dialect: new SqliteDialect({ database: sqlite }) });
  await createTables(db);
  const { count } = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .executeTakeFirstOrThrow();
  if (Number(count) === 0) await seed(db);
  return db;
}

async function createTables(db: Kysely<DemoDb>): Promise<void> {
  await db.schema
    .createTable('users')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('internal_notes', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('orders')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('total_cents', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('internal_margin', 'real', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('products')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('price_cents', 'integer', (c) => c.notNull())
    .addColumn('stock', 'integer', (c) => c.notNull())
    .addColumn('internal_cost', 'integer', (c) => c.notNull())
    .execute();
  for (const table of ['users', 'orders', 'products'] as const) {
    await db.schema.createIndex(`${table}_owner`).ifNotExists().on(table).column('owner').execute();
  }
}

async function seed(db: Kysely<DemoDb>): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const { id: owner } of DEMO_USERS) {
      const cap = owner[0]?.toUpperCase() + owner.slice(1);
      await tx
        .insertInto('users')
        .values([
          {
            owner,
            name: `${cap} Example`,
            email: `${owner}@example.com`,
            internal_notes: `INTERNAL: credit review for ${owner}`,
          },
          {
            owner,
            name: `${cap}'s assistant`,
            email: `${owner}.assistant@example.com`,
            internal_notes: 'INTERNAL: contractor',
          },
        ])
        .execute();
      await tx
        .insertInto('products')
        .values([
          { owner, name: 'Widget', price_cents: 1999, stock: 40, internal_cost: 700 },
          { owner, name: 'Gadget 100%', price_cents: 4999, stock: 5, internal_cost: 2100 },
          { owner, name: 'snake_case tool', price_cents: 250, stock: 1000, internal_cost: 90 },
        ])
        .execute();
      await tx
        .insertInto('orders')
        .values([
          {
            owner,
            product: 'Widget',
            quantity: 2,
            total_cents: 3998,
            status: 'shipped',
            internal_margin: 0.42,
          },
          {
            owner,
            product: 'Gadget 100%',
            quantity: 1,
            total_cents: 4999,
            status: 'pending',
            internal_margin: 0.58,
          },
          {
            owner,
            product: 'snake_case tool',
            quantity: 12,
            total_cents: 3000,
            status: 'cancelled',
            internal_margin: 0.64,
          },
        ])
        .execute();
    }
  });
}
