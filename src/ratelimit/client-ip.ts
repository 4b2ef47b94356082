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

/**
 * The failed-login bucket of a client address, as the resolver gives it: an IPv4 address itself,
 * an IPv6 address its /64 (`2001:db8:1:2::/64`), anything else itself. A host is commonly given a
 * whole /64, so per-address IPv6 buckets would hand it 2^64 fresh budgets. The resolver has already
 * turned IPv4-mapped IPv6 into IPv4.
 */
export function addressBucket(ip: string): string {
  const gap = ip.indexOf('::');
  if (gap < 0 && !ip.includes(':')) return ip;
  const head = gap < 0 ? ip.split(':') : gap === 0 ? [] : ip.slice(0, gap).split(':');
  if (head.length < 4) {
    // The groups `::` stands for are zeros; an embedded IPv4 tail (a.b.c.d) is two groups.
    const tail = gap < 0 || gap + 2 === ip.length ? [] : ip.slice(gap + 2).split(':');
    const tailGroups = tail.length + (tail.at(-1)?.includes('.') ? 1 : 0);
    const zeros = 8 - head.length - tailGroups;
    for (let i = 0; head.length < 4; i++) head.push(i < zeros ? '0' : (tail[i - zeros] ?? '0'));
  }
  let prefix = '';
  for (let i = 0; i < 4; i++) prefix += `${Number.parseInt(head[i] as string, 16).toString(16)}:`;
  return `${prefix}:/64`;
}
