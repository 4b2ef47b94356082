import { RampartError } from './errors.js';

/** Which `Origin` and `Host` values the endpoint accepts; built once from config. */
export interface OriginPolicy {
  /** Origins a browser may call from (exact, lower-case `scheme://host[:port]`). */
  readonly allowedOrigins: ReadonlySet<string>;
  /** Accepted `Host` header values, lower-case, with port where not default. */
  readonly allowedHosts: ReadonlySet<string>;
}

/**
 * Checks `Origin` and `Host` (MCP transports §Security: "Servers MUST validate the Origin header";
 * a Host allow-list defeats DNS rebinding against loopback servers, whose Host would otherwise be
 * the attacker's name).
 *
 * @throws RampartError `ERR_HTTP_HOST_FORBIDDEN` or `ERR_HTTP_ORIGIN_FORBIDDEN` (403).
 */
export function checkOrigin(
  headers: { get(name: string): string | null },
  request: { readonly url: string },
  policy: OriginPolicy,
): void {
  // A Request built in code (tests, some runtimes) has no Host header; its URL carries the host.
  // (The URL is read only then: the Node adapter builds it on access.)
  const host = headers.get('host') ?? new URL(request.url).host;
  if (host === null || !policy.allowedHosts.has(host.toLowerCase()))
    throw new RampartError('ERR_HTTP_HOST_FORBIDDEN');
  const origin = headers.get('origin');
  if (origin !== null && !policy.allowedOrigins.has(origin.toLowerCase())) {
    throw new RampartError('ERR_HTTP_ORIGIN_FORBIDDEN');
  }
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** True for addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Builds the policy: the public URL's host and origin are always allowed; a loopback bind also
 * allows the loopback names at its port (and nothing else, which is the DNS-rebinding defence).
 */
export function createOriginPolicy(options: {
  publicUrl: URL;
  bindHost: string;
  port: number;
  allowedOrigins: readonly string[];
  allowedHosts: readonly string[];
}): OriginPolicy {
  const hosts = new Set<string>([options.publicUrl.host.toLowerCase(), ...options.allowedHosts.map(lower)]);
  const origins = new Set<string>([
    options.publicUrl.origin.toLowerCase(),
    ...options.allowedOrigins.map(lower),
  ]);
  if (isLoopbackHost(options.bindHost)) {
    for (const name of LOOPBACK_NAMES) {
      hosts.add(`${name}:${options.port}`);
      origins.add(`http://${name}:${options.port}`);
    }
  }
  return { allowedHosts: hosts, allowedOrigins: origins };
}

function lower(s: string): string {
  return s.toLowerCase();
}
