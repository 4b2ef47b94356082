import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** A DNS lookup returning every address of a host (as `dns.promises.lookup(host, { all: true })`). */
export type HostLookup = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

/**
 * Addresses that are not globally reachable (IANA special-purpose registries, RFC 6890 and updates).
 * Fail closed: everything in IPv6 outside global unicast 2000::/3 is refused separately.
 */
const NOT_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", includes the unspecified address
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // shared address space (CGNAT), RFC 6598
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, where cloud metadata services live
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast, deprecated
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes broadcast 255.255.255.255
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
const GLOBAL_UNICAST_V6 = new BlockList();
GLOBAL_UNICAST_V6.addSubnet('2000::', 3, 'ipv6');
for (const [net, prefix] of [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 embeds any IPv4 address, private ones included
  ['3fff::', 20], // documentation, RFC 9637
] as const) {
  NOT_PUBLIC.addSubnet(net, prefix, 'ipv6');
}
/** IPv6 prefixes whose last 32 bits are an IPv4 address that the packet really goes to. */
const EMBEDS_IPV4 = new BlockList();
EMBEDS_IPV4.addSubnet('::ffff:0:0', 96, 'ipv6'); // IPv4-mapped
EMBEDS_IPV4.addSubnet('64:ff9b::', 96, 'ipv6'); // NAT64 well-known prefix, RFC 6052

/**
 * Whether an IP address is globally reachable, so that fetching from it cannot reach this host,
 * its private network or a cloud metadata service. False for anything that is not an IP address,
 * and for scoped IPv6 addresses (`fe80::1%eth0`).
 *
 * @example
 * isPublicAddress('93.184.215.14'); // true
 * isPublicAddress('::ffff:169.254.169.254'); // false
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NOT_PUBLIC.check(address, 'ipv4');
  if (family !== 6 || address.includes('%')) return false;
  // Check the IPv4 address inside explicitly rather than trust BlockList to map it.
  if (EMBEDS_IPV4.check(address, 'ipv6')) return isPublicAddress(embeddedIpv4(address));
  return GLOBAL_UNICAST_V6.check(address, 'ipv6') && !NOT_PUBLIC.check(address, 'ipv6');
}

/** The IPv4 address in the last 32 bits of a valid IPv6 address. */
function embeddedIpv4(address: string): string {
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) return dotted[1]!;
  const groups = (text: string) => (text === '' ? [] : text.split(':'));
  const [head = '', tail] = address.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const [high = 0, low = 0] = all.slice(6).map((g) => Number.parseInt(g, 16));
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** Why an outbound request failed; stable, so callers can map it to their own fixed message. */
export type OutboundFailure =
  | 'host_not_allowed'
  | 'host_not_resolved'
  | 'timeout'
  | 'too_large'
  | 'unreachable';

/** An outbound request refused or failed. The message is fixed; details are in `cause`. */
export class OutboundRequestError extends Error {
  override readonly name = 'OutboundRequestError';
  readonly reason: OutboundFailure;

  constructor(reason: OutboundFailure, options?: { cause?: unknown }) {
    super(`outbound request failed: ${reason}`, options);
    this.reason = reason;
  }
}

/** Options of {@link pinnedGet}. */
export interface PinnedGetOptions {
  /** Connect to private, loopback and link-local addresses too: development and tests only. */
  readonly dangerouslyAllowPrivateAddresses: boolean;
  /** Deadline for the whole exchange, DNS and body included, in milliseconds. */
  readonly timeoutMs: number;
  /** Largest body read; a larger one is refused as soon as it is known to be larger. */
  readonly maxBytes: number;
  readonly lookup: HostLookup;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A response of {@link pinnedGet}. `body` is read only for 2xx statuses; otherwise it is empty. */
export interface PinnedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/**
 * Resolves a URL's host and checks every address it resolves to (one bad address refuses the
 * host: the attacker controls which one a resolver hands out). An IP-literal host is checked as is.
 *
 * @throws OutboundRequestError `host_not_allowed` or `host_not_resolved`.
 */
export async function resolveCheckedAddress(
  url: URL,
  lookup: HostLookup,
  allowPrivate: boolean,
): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: 4 | 6 }[];
  if (isIP(host) !== 0) addresses = [{ address: host, family: isIP(host) as 4 | 6 }];
  else {
    try {
      addresses = await lookup(host);
    } catch (error) {
      throw new OutboundRequestError('host_not_resolved', { cause: error });
    }
  }
  const first = addresses[0];
  if (first === undefined) throw new OutboundRequestError('host_not_resolved');
  if (!allowPrivate && !addresses.every((a) => isPublicAddress(a.address))) {
    throw new OutboundRequestError('host_not_allowed', { cause: { host, addresses } });
  }
  return { address: first.address, family: first.family };
}

/**
 * A `lookup` for `http.request` that always answers with an address already checked, so a DNS
 * answer that changes between check and connect (DNS rebinding) is never used. Node asks with
 * `all: true` when it races address families (autoSelectFamily, on by default since Node 20).
 */
export function pinnedLookup(address: string, family: 4 | 6): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/**
 * GET a URL with SSRF guards: the host's addresses are checked and the connection is pinned to
 * the checked one; redirects are returned, never followed; one deadline covers DNS, connect,
 * headers and body; the body is cut off at `maxBytes`. TLS still verifies the certificate
 * against the host name.
 *
 * @throws OutboundRequestError
 * @example
 * const res = await pinnedGet(new URL('https://client.example/app.json'), {
 *   dangerouslyAllowPrivateAddresses: false, timeoutMs: 5000, maxBytes: 5120, lookup,
 * });
 */
export function pinnedGet(url: URL, options: PinnedGetOptions): Promise<PinnedResponse> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let request: ClientRequest | undefined;
    let response: IncomingMessage | undefined;
    const settle = (error: OutboundRequestError | undefined, value?: PinnedResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Drop the connection either way: with agent: false nothing is pooled, and a refused
      // response must not be read any further.
      response?.destroy();
      request?.destroy();
      if (error) reject(error);
      else resolve(value!);
    };
    const timer = setTimeout(() => settle(new OutboundRequestError('timeout')), options.timeoutMs);

    resolveCheckedAddress(url, options.lookup, options.dangerouslyAllowPrivateAddresses).then(
      (target) => {
        if (settled) return;
        const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
        const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
        request = send({
          method: 'GET',
          hostname: host,
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          headers: { ...options.headers, 'accept-encoding': 'identity' },
          agent: false,
          lookup: pinnedLookup(target.address, target.family),
          // SNI and certificate checks use the name, not the pinned address (no SNI for literals).
          ...(isIP(host) === 0 ? { servername: host } : {}),
        });
        request.on('error', (error) => settle(new OutboundRequestError('unreachable', { cause: error })));
        request.on('response', (res) => {
          response = res;
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299)
            return settle(undefined, { status, headers: res.headers, body: Buffer.alloc(0) });
          if (Number(res.headers['content-length']) > options.maxBytes) {
            return settle(new OutboundRequestError('too_large'));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > options.maxBytes) settle(new OutboundRequestError('too_large'));
            else chunks.push(chunk);
          });
          res.on('end', () =>
            settle(undefined, { status, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', (error) => settle(new OutboundRequestError('unreachable', { cause: error })));
          res.on('close', () => settle(new OutboundRequestError('unreachable')));
        });
        request.end();
      },
      (error: unknown) =>
        settle(
          error instanceof OutboundRequestError
            ? error
            : new OutboundRequestError('unreachable', { cause: error }),
        ),
    );
  });
}
