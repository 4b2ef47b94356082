import type { FetchImplementation } from 'jose';
import { KeySetUnavailable } from './rejection.js';

/** Largest JWKS response read, in bytes; real key sets are a few KiB. */
export const MAX_JWKS_BYTES = 512 * 1024;

/** Options of {@link createJwksFetch}. */
export interface JwksFetchOptions {
  /** The underlying `fetch`. */
  readonly fetch: typeof fetch;
  /** After a failed fetch, the endpoint is not contacted again for this long, in ms. */
  readonly backoffMs: number;
  /** The clock, in epoch ms. */
  readonly now: () => number;
}

/**
 * The fetch jose's remote key set uses (its `customFetch` option). jose already adds the timeout
 * signal, `redirect: 'manual'` and de-duplicates concurrent reloads; this adds what it leaves out:
 *
 * - a backoff after a failure, so tokens naming this issuer cannot turn Rampart into a loop of
 *   requests against a failing endpoint (jose's cooldown only starts after a success);
 * - a size cap on the response body;
 * - the key-set checks of {@link assertPublicKeySet}.
 *
 * Every failure is a {@link KeySetUnavailable}; a token that needs the keys is then refused.
 */
export function createJwksFetch(options: JwksFetchOptions): FetchImplementation {
  let failedAt: number | undefined;
  return async (url, init) => {
    if (failedAt !== undefined && options.now() - failedAt < options.backoffMs)
      throw new KeySetUnavailable('JWKS fetch is backing off after a failure');
    try {
      const response = await options.fetch(url, init);
      // jose asks for `redirect: 'manual'`: a redirect is a failure, never followed.
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new KeySetUnavailable(`JWKS endpoint answered HTTP ${response.status}`);
      }
      const text = await readCapped(response, MAX_JWKS_BYTES, init.signal);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new KeySetUnavailable('JWKS response is not JSON');
      }
      const problem = keySetProblem(parsed);
      if (problem) throw new KeySetUnavailable(`JWKS response ${problem}`);
      failedAt = undefined;
      return new Response(text, { status: 200, headers: { 'content-type': 'application/json' } });
    } catch (error) {
      failedAt = options.now();
      throw error;
    }
  };
}

/** Reads a body as UTF-8 text, refusing more than `max` bytes and honouring the abort signal. */
async function readCapped(response: Response, max: number, signal: AbortSignal): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > max) {
    await response.body?.cancel().catch(() => undefined);
    throw new KeySetUnavailable('JWKS response is too large');
  }
  if (!response.body) return '';
  if (signal.aborted) throw signal.reason;
  const reader = response.body.getReader();
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let text = '';
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal.aborted) throw signal.reason;
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        cancel();
        throw new KeySetUnavailable('JWKS response is too large');
      }
      text += decoder.decode(value, { stream: true });
    }
    return text + decoder.decode();
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

// JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * What is wrong with a value meant as a JWKS of public verification keys, or `undefined`.
 * A set that holds any private or symmetric key is refused whole: its publisher is misconfigured
 * or compromised, and no key in it should be trusted.
 */
export function keySetProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'is not a JWKS object';
  const keys: unknown = Object.hasOwn(value, 'keys') ? (value as { keys: unknown }).keys : undefined;
  if (!Array.isArray(keys)) return 'has no "keys" array';
  for (const key of keys) {
    if (key === null || typeof key !== 'object' || Array.isArray(key))
      return 'has a key that is not an object';
    if ((key as { kty?: unknown }).kty === 'oct' || SECRET_MEMBERS.some((m) => Object.hasOwn(key, m)))
      return 'holds a private or symmetric key';
  }
  return undefined;
}
