import { join } from 'node:path';
import { openKeyStore } from '../../src/stores/key-store.js';

/** One key to mint: its owner (created with `roles` if missing) and scopes. */
export interface KeySpec {
  readonly user: string;
  readonly scopes: readonly string[];
  readonly roles?: readonly string[];
}

/**
 * Mints API keys into the key store of `dataDir` (the store a Rampart on that data directory
 * reads), creating their users first, and returns the keys by label.
 */
export async function mintKeys<const L extends string>(
  dataDir: string,
  specs: Readonly<Record<L, KeySpec>>,
): Promise<Record<L, string>> {
  const store = await openKeyStore(join(dataDir, 'rampart.db'));
  try {
    const keys = {} as Record<L, string>;
    for (const [label, spec] of Object.entries(specs) as [L, KeySpec][]) {
      if (!(await store.keys.getUser(spec.user)))
        await store.keys.createUser(spec.user, [...(spec.roles ?? [])]);
      keys[label] = (
        await store.keys.createKey({ name: label, userId: spec.user, scopes: [...spec.scopes] })
      ).key;
    }
    return keys;
  } finally {
    await store.close();
  }
}
