import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../core/errors.js';

/** The bucket for requests whose client address cannot be trusted or found: one, shared. */
export const UNRESOLVED_CLIENT = 'unresolved';

/** Finds the client address of a request. */
export type ClientIpResolver = (socketAddress: string | undefined, forwardedFor: string | null) => string;

/**
 * Builds the client-address rule. Without trusted proxies the socket address is the client and
 * `X-Forwarded-For` is ignored, whatever it says. With trusted proxies (addresses or CIDRs),
 * `X-Forwarded-For` is walked from the right, past trusted hops only: the first untrusted address
 * is the client. A chain that cannot be read (a malformed entry, or nothing but trusted hops) falls
 * into one shared bucket, so a forged header never earns a fresh budget (fail closed).
 *
 * @throws ConfigError for an entry that is neither an IP address nor a CIDR.
 */
export function createClientIpResolver(trustedProxies: readonly string[]): ClientIpResolver {
  const trusted = new BlockList();
  for (const [index, entry] of trustedProxies.entries()) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = isIP(address);
    if (family === 0)
      throw new ConfigError(`server.proxy.trustedAddresses.${index}`, `"${entry}" is not an IP or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) {
      trusted.addAddress(address, type);
      continue;
    }
    const prefix = Number(bits);
    if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
      throw new ConfigError(`server.proxy.trustedAddresses.${index}`, `"${entry}" has a bad prefix length`);
    }
    trusted.addSubnet(address, prefix, type);
  }
  const isTrusted = (address: string) => trusted.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');

  if (trustedProxies.length === 0) {
    return (socketAddress) => normalize(socketAddress ?? '') ?? UNRESOLVED_CLIENT;
  }
  return (socketAddress, forwardedFor) => {
    const peer = normalize(socketAddress ?? '');
    if (peer === undefined) return UNRESOLVED_CLIENT;
    if (!isTrusted(peer)) return peer;
    if (forwardedFor === null) return UNRESOLVED_CLIENT;
    const hops = forwardedFor.split(',');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalize((hops[i] as string).trim());
      if (hop === undefined) return UNRESOLVED_CLIENT;
      if (!isTrusted(hop)) return hop;
    }
    return UNRESOLVED_CLIENT;
  };
}

// The last address normalized, and its form: a connection's requests all come from one address.
let lastAddress = '';
let lastNormal: string | undefined;

/** A canonical form of an IP address (IPv4-mapped IPv6 as IPv4), or undefined for anything else. */
function normalize(address: string): string | undefined {
  if (address !== lastAddress) {
    lastNormal = normalizeUncached(address);
    lastAddress = address;
  }
  return lastNormal;
}

function normalizeUncached(address: string): string | undefined {
  const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(mapped) === 4) return mapped;
  // One spelling per IPv6 address (the URL parser compresses zeros), so a bucket cannot be
  // dodged by writing the same address another way.
  if (isIP(address) !== 6) return undefined;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return undefined; // zone ids (fe80::1%eth0) and the like
  }
}
