import { describe, expect, it } from 'vitest';
import { RampartError } from '../core/errors.js';
import { createAuthenticator } from './authenticate.js';
import { ImmutableSet, type Principal } from './principal.js';
import type { Credential, TokenVerifier } from './verifier.js';

const TOKEN = 'aaaa.bbbb.cccc';
const alice: Principal = Object.freeze({
  subject: 'alice',
  issuer: 'https://issuer.example',
  authMethod: 'jwt',
  scopes: new ImmutableSet(['mcp:read']),
  roles: new ImmutableSet<string>([]),
});

/** A verifier whose cache holds TOKEN; it counts the full verifications it is asked for. */
function cachingVerifier() {
  const seen: Credential[] = [];
  const verifier: TokenVerifier = {
    name: 'test',
    accepts: (c) => c.kind === 'bearer',
    verify: async (c) => {
      seen.push(c);
      if (c.value !== TOKEN) throw new RampartError('ERR_AUTH_INVALID_TOKEN');
      return alice;
    },
    lookup: (token) => (token === TOKEN ? alice : undefined),
  };
  return { verifier, seen };
}

const headers = (entries: Record<string, string>) => ({
  get: (name: string) => entries[name] ?? null,
});

async function refusal(result: unknown): Promise<string | undefined> {
  try {
    await result;
    return undefined;
  } catch (error) {
    return (error as RampartError).code;
  }
}

describe('createAuthenticator', () => {
  it('answers a cached token at once, without a promise or a full verification', () => {
    const { verifier, seen } = cachingVerifier();
    const principal = createAuthenticator([verifier])(headers({ authorization: `Bearer ${TOKEN}` }));
    expect(principal).toBe(alice);
    expect(seen).toHaveLength(0);
  });

  it('sends every other spelling of a cached token through the full checks', async () => {
    const { verifier, seen } = cachingVerifier();
    const authenticate = createAuthenticator([verifier]);
    // Another case of the scheme is still a bearer token, checked in full.
    expect(await authenticate(headers({ authorization: `bearer ${TOKEN}` }))).toBe(alice);
    expect(seen).toHaveLength(1);
    // Two Authorization headers joined by the runtime fail the syntax check.
    expect(await refusal(authenticate(headers({ authorization: `Bearer ${TOKEN}, Bearer ${TOKEN}` })))).toBe(
      'ERR_AUTH_INVALID_REQUEST',
    );
    // A second credential is refused even when the token is cached.
    expect(
      await refusal(authenticate(headers({ authorization: `Bearer ${TOKEN}`, 'x-api-key': 'rmp_x' }))),
    ).toBe('ERR_AUTH_MULTIPLE_CREDENTIALS');
    expect(await refusal(authenticate(headers({ authorization: `Bearer ${TOKEN}x` })))).toBe(
      'ERR_AUTH_INVALID_TOKEN',
    );
  });
});
