import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type KeyStore, openKeyStore } from '../../stores/key-store.js';
import { hashApiKey, isApiKeyShaped } from './format.js';
import type { ApiKeyStore } from './store.js';

const HOUR = 3_600_000;
let dir: string;
let store: KeyStore;
let keys: ApiKeyStore;
let clock: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rampart-keys-'));
  clock = 1_700_000_000_000;
  store = await openKeyStore(join(dir, 'rampart.db'), { now: () => clock });
  keys = store.keys;
  await keys.createUser('alice', ['admin']);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const storeError = (code: string) => expect.objectContaining({ name: 'ApiKeyStoreError', code });
const lookup = (key: string, at = clock) => keys.lookupByHash(hashApiKey(key), at);

describe('users', () => {
  it('creates, reads, lists, re-roles and removes users', async () => {
    await keys.createUser('bob', []);
    expect(await keys.getUser('alice')).toEqual({ id: 'alice', roles: ['admin'], createdAt: clock });
    expect((await keys.listUsers()).map((u) => u.id)).toEqual(['alice', 'bob']);
    expect(await keys.setUserRoles('bob', ['ops', 'ops', 'audit'])).toBe(true);
    expect((await keys.getUser('bob'))?.roles).toEqual(['ops', 'audit']);
    expect(await keys.setUserRoles('nobody', ['x'])).toBe(false);
    expect(await keys.removeUser('bob')).toBe(true);
    expect(await keys.removeUser('bob')).toBe(false);
    expect(await keys.getUser('bob')).toBeUndefined();
  });

  it('refuses a duplicate user and bad input', async () => {
    await expect(keys.createUser('alice', [])).rejects.toThrowError(storeError('ERR_KEYSTORE_USER_EXISTS'));
    await expect(keys.createUser('a b', [])).rejects.toThrowError(storeError('ERR_KEYSTORE_INVALID_INPUT'));
    await expect(keys.createUser('carol', ['bad role'])).rejects.toThrowError(
      storeError('ERR_KEYSTORE_INVALID_INPUT'),
    );
    await expect(keys.setUserRoles('alice', ['a b'])).rejects.toThrowError(
      storeError('ERR_KEYSTORE_INVALID_INPUT'),
    );
  });
});

describe('createKey', () => {
  it('returns the key once and stores a record without it', async () => {
    const { record, key } = await keys.createKey({
      name: 'laptop',
      userId: 'alice',
      scopes: ['mcp:read', 'mcp:write'],
    });
    expect(isApiKeyShaped(key)).toBe(true);
    expect(record).toEqual({
      id: expect.stringMatching(/^key_[a-z2-7]{16}$/),
      name: 'laptop',
      userId: 'alice',
      displayPrefix: key.slice(0, 10),
      scopes: ['mcp:read', 'mcp:write'],
      createdAt: clock,
      expiresAt: null,
      revokedAt: null,
      replacedBy: null,
      graceUntil: null,
      lastUsedAt: null,
    });
    expect(await keys.getKey(record.id)).toEqual(record);
    expect(await lookup(key)).toEqual({ status: 'active', key: record, roles: ['admin'] });
  });

  it('requires an existing user', async () => {
    await expect(keys.createKey({ name: 'k', userId: 'ghost', scopes: ['s'] })).rejects.toThrowError(
      storeError('ERR_KEYSTORE_USER_NOT_FOUND'),
    );
    expect(await keys.listKeys()).toEqual([]);
  });

  it.each([
    [{ name: '', userId: 'alice', scopes: ['s'] }, 'name'],
    [{ name: 'k', userId: 'alice', scopes: [] }, 'scopes'],
    [{ name: 'k', userId: 'alice', scopes: ['a"b'] }, 'scopes'],
    [{ name: 'k', userId: 'alice', scopes: ['s'], expiresAt: 1_700_000_000_000 }, 'expiresAt'],
    [{ name: 'k', userId: 'al ice', scopes: ['s'] }, 'userId'],
  ])('refuses %o', async (input, field) => {
    await expect(keys.createKey(input)).rejects.toThrowError(
      expect.objectContaining({ code: 'ERR_KEYSTORE_INVALID_INPUT', field }),
    );
  });
});

describe('listKeys', () => {
  it('never exposes a hash or a key', async () => {
    const a = await keys.createKey({ name: 'a', userId: 'alice', scopes: ['s'] });
    clock += 1;
    const b = await keys.createKey({ name: 'b', userId: 'alice', scopes: ['s'] });
    const list = await keys.listKeys();
    expect(list.map((k) => k.id)).toEqual([a.record.id, b.record.id]);
    const text = JSON.stringify([list, await keys.getKey(a.record.id)]);
    for (const { key } of [a, b]) {
      expect(text).not.toContain(hashApiKey(key));
      expect(text).not.toContain(key);
    }
    expect(text).not.toContain('"hash"');
  });
});

describe('revokeKey', () => {
  it('revokes once, and the key never authenticates again', async () => {
    const { record, key } = await keys.createKey({ name: 'k', userId: 'alice', scopes: ['s'] });
    expect(await keys.revokeKey(record.id)).toBe(true);
    expect(await keys.revokeKey(record.id)).toBe(false);
    expect(await keys.revokeKey('key_doesnotexist00')).toBe(false);
    expect((await keys.getKey(record.id))?.revokedAt).toBe(clock);
    expect(await lookup(key)).toEqual({ status: 'revoked' });
    expect(await keys.findActiveByHash(hashApiKey(key), clock)).toBeUndefined();
  });
});

describe('expiry', () => {
  it('works until expiresAt, exclusive', async () => {
    const { key } = await keys.createKey({
      name: 'k',
      userId: 'alice',
      scopes: ['s'],
      expiresAt: clock + HOUR,
    });
    expect((await lookup(key, clock + HOUR - 1)).status).toBe('active');
    expect(await lookup(key, clock + HOUR)).toEqual({ status: 'expired' });
  });
});

describe('rotateKey', () => {
  it('mints a successor; the old key works inside the grace period only', async () => {
    const old = await keys.createKey({
      name: 'ci',
      userId: 'alice',
      scopes: ['a', 'b'],
      expiresAt: clock + 10 * HOUR,
    });
    clock += 1000;
    const next = await keys.rotateKey(old.record.id, HOUR);
    expect(next.key).not.toBe(old.key);
    expect(next.record).toMatchObject({
      name: 'ci',
      userId: 'alice',
      scopes: ['a', 'b'],
      expiresAt: old.record.expiresAt,
    });
    expect(await keys.getKey(old.record.id)).toMatchObject({
      replacedBy: next.record.id,
      graceUntil: clock + HOUR,
    });

    expect((await lookup(old.key, clock + HOUR - 1)).status).toBe('rotating');
    expect((await lookup(next.key, clock + HOUR - 1)).status).toBe('active');
    expect(await lookup(old.key, clock + HOUR)).toEqual({ status: 'rotated' });
    expect((await lookup(next.key, clock + HOUR)).status).toBe('active');
  });

  it('with no grace, kills the old key at once', async () => {
    const old = await keys.createKey({ name: 'k', userId: 'alice', scopes: ['s'] });
    await keys.rotateKey(old.record.id, 0);
    expect(await lookup(old.key)).toEqual({ status: 'rotated' });
  });

  it('refuses unknown, revoked, expired and already rotated keys, writing nothing', async () => {
    await expect(keys.rotateKey('key_aaaaaaaaaaaaaaaa', HOUR)).rejects.toThrowError(
      storeError('ERR_KEYSTORE_KEY_NOT_FOUND'),
    );
    const revoked = await keys.createKey({ name: 'r', userId: 'alice', scopes: ['s'] });
    await keys.revokeKey(revoked.record.id);
    const expired = await keys.createKey({
      name: 'e',
      userId: 'alice',
      scopes: ['s'],
      expiresAt: clock + 10,
    });
    const rotated = await keys.createKey({ name: 'o', userId: 'alice', scopes: ['s'] });
    await keys.rotateKey(rotated.record.id, HOUR);
    clock += 10;
    const before = await keys.listKeys();
    for (const id of [revoked.record.id, expired.record.id, rotated.record.id]) {
      await expect(keys.rotateKey(id, HOUR)).rejects.toThrowError(storeError('ERR_KEYSTORE_KEY_NOT_ACTIVE'));
    }
    expect(await keys.listKeys()).toEqual(before);
  });

  it('refuses a bad grace period', async () => {
    const { record } = await keys.createKey({ name: 'k', userId: 'alice', scopes: ['s'] });
    for (const grace of [-1, 1.5, 31 * 24 * HOUR]) {
      await expect(keys.rotateKey(record.id, grace)).rejects.toThrowError(
        storeError('ERR_KEYSTORE_INVALID_INPUT'),
      );
    }
  });

  it('yields exactly one successor when one key is rotated twice at once', async () => {
    const { record } = await keys.createKey({ name: 'k', userId: 'alice', scopes: ['s'] });
    const results = await Promise.allSettled([
      keys.rotateKey(record.id, HOUR),
      keys.rotateKey(record.id, HOUR),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await keys.listKeys()).toHaveLength(2);
  });
});

describe('removeUser', () => {
  it('takes every key of the user with it; other users keep theirs', async () => {
    await keys.createUser('bob', []);
    const a1 = await keys.createKey({ name: 'a1', userId: 'alice', scopes: ['s'] });
    const a2 = await keys.createKey({ name: 'a2', userId: 'alice', scopes: ['s'] });
    await keys.rotateKey(a2.record.id, HOUR);
    const b = await keys.createKey({ name: 'b', userId: 'bob', scopes: ['s'] });
    expect(await keys.removeUser('alice')).toBe(true);
    expect((await lookup(a1.key)).status).toBe('unknown');
    expect((await lookup(a2.key)).status).toBe('unknown');
    expect((await lookup(b.key)).status).toBe('active');
    expect((await keys.listKeys()).map((k) => k.userId)).toEqual(['bob']);
    // A new user with the same id does not bring the old keys back.
    await keys.createUser('alice', ['admin']);
    expect((await lookup(a1.key)).status).toBe('unknown');
  });
});

describe('touchKey', () => {
  it('records use and never moves backwards', async () => {
    const { record } = await keys.createKey({ name: 'k', userId: 'alice', scopes: ['s'] });
    await keys.touchKey(record.id, clock + 100);
    await keys.touchKey(record.id, clock + 50);
    expect((await keys.getKey(record.id))?.lastUsedAt).toBe(clock + 100);
  });
});

describe('roles', () => {
  it('reads the current roles of the user at lookup time', async () => {
    const { key } = await keys.createKey({ name: 'k', userId: 'alice', scopes: ['s'] });
    await keys.setUserRoles('alice', ['viewer']);
    expect(await lookup(key)).toMatchObject({ status: 'active', roles: ['viewer'] });
  });

  it('fails closed on a corrupt roles column', async () => {
    const { key } = await keys.createKey({ name: 'k', userId: 'alice', scopes: ['s'] });
    await store.db.updateTable('rampart_users').set({ roles: '{"admin":true}' }).execute();
    await expect(lookup(key)).rejects.toThrow(/corrupt roles/);
  });
});
