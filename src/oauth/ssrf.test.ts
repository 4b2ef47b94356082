import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  isPublicAddress,
  OutboundRequestError,
  pinnedGet,
  pinnedLookup,
  resolveCheckedAddress,
} from './ssrf.js';

describe('isPublicAddress', () => {
  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '172.15.255.255',
    '172.32.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '169.253.255.255',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::808:808',
  ])('accepts %s', (address) => expect(isPublicAddress(address)).toBe(true));

  it.each([
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback, end of range'],
    ['10.0.0.1', 'RFC 1918'],
    ['172.16.0.1', 'RFC 1918'],
    ['172.31.255.255', 'RFC 1918, end of range'],
    ['192.168.1.1', 'RFC 1918'],
    ['169.254.169.254', 'link-local cloud metadata'],
    ['100.64.0.1', 'CGNAT'],
    ['100.127.255.255', 'CGNAT, end of range'],
    ['192.0.0.170', 'IETF protocol assignments'],
    ['192.0.2.1', 'TEST-NET-1'],
    ['198.18.0.1', 'benchmarking'],
    ['198.51.100.1', 'TEST-NET-2'],
    ['203.0.113.1', 'TEST-NET-3'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::127.0.0.1', 'IPv4-compatible, deprecated'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:0:0', 'IPv4-mapped unspecified'],
    ['64:ff9b::7f00:1', 'NAT64 of loopback'],
    ['64:ff9b::a00:1', 'NAT64 of RFC 1918'],
    ['64:ff9b:1::1', 'local-use NAT64'],
    ['100::1', 'discard-only'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'scoped link-local'],
    ['fec0::1', 'site-local, deprecated'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation, RFC 9637'],
    ['2001::1', 'Teredo'],
    ['2002:7f00:1::1', '6to4 of loopback'],
    ['not-an-ip', 'not an address'],
    ['1.2.3', 'not an address'],
    ['', 'empty'],
  ])('refuses %s (%s)', (address) => expect(isPublicAddress(address)).toBe(false));

  it('judges an IPv4-mapped or NAT64 address as the IPv4 address inside', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
        const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        expect(isPublicAddress(`::ffff:${v4}`)).toBe(isPublicAddress(v4));
        expect(isPublicAddress(`::ffff:${hex}`)).toBe(isPublicAddress(v4));
        expect(isPublicAddress(`64:ff9b::${hex}`)).toBe(isPublicAddress(v4));
      }),
    );
  });

  it('never accepts an RFC 1918, loopback or link-local IPv4 address', () => {
    const byte = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(
        fc.constantFrom('10', '127', '169.254', '192.168', '172.16', '172.31'),
        byte,
        byte,
        byte,
        (p, x, y, z) => {
          const address = [...p.split('.'), x, y, z].slice(0, 4).join('.');
          expect(isPublicAddress(address)).toBe(false);
        },
      ),
    );
  });
});

describe('resolveCheckedAddress', () => {
  it('refuses a host when any of its addresses is not public', async () => {
    const lookup = async () => [
      { address: '93.184.215.14', family: 4 as const },
      { address: '10.0.0.1', family: 4 as const },
    ];
    await expect(
      resolveCheckedAddress(new URL('https://app.example/x'), lookup, false),
    ).rejects.toMatchObject({
      reason: 'host_not_allowed',
    });
  });

  it('checks an IP-literal host without DNS', async () => {
    const lookup = vi.fn(async () => [{ address: '93.184.215.14', family: 4 as const }]);
    await expect(resolveCheckedAddress(new URL('https://[::1]/x'), lookup, false)).rejects.toMatchObject({
      reason: 'host_not_allowed',
    });
    await expect(resolveCheckedAddress(new URL('https://8.8.8.8/x'), lookup, false)).resolves.toEqual({
      address: '8.8.8.8',
      family: 4,
    });
    expect(lookup).not.toHaveBeenCalled();
  });

  it('reports a host that does not resolve', async () => {
    const failing = async () => Promise.reject(new Error('ENOTFOUND'));
    await expect(resolveCheckedAddress(new URL('https://a.example/x'), failing, false)).rejects.toMatchObject(
      {
        reason: 'host_not_resolved',
      },
    );
    await expect(
      resolveCheckedAddress(new URL('https://a.example/x'), async () => [], false),
    ).rejects.toMatchObject({
      reason: 'host_not_resolved',
    });
  });
});

describe('pinnedLookup', () => {
  it('answers in both shapes Node asks for', () => {
    const lookup = pinnedLookup('93.184.215.14', 4);
    const one = vi.fn();
    const all = vi.fn();
    lookup('anything.example', {}, one);
    lookup('anything.example', { all: true }, all);
    expect(one).toHaveBeenCalledWith(null, '93.184.215.14', 4);
    expect(all).toHaveBeenCalledWith(null, [{ address: '93.184.215.14', family: 4 }]);
  });
});

describe('pinnedGet', () => {
  let server: Server;
  let port: number;
  const hosts: (string | undefined)[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hosts.push(req.headers.host);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('connects to the checked address only, once, keeping the host name in Host', async () => {
    // A rebinding resolver: the first answer is the one checked; any later answer must be unused.
    const answers = ['127.0.0.1', '10.255.255.1'];
    const lookup = vi.fn(async () => [{ address: answers.shift() ?? '10.255.255.1', family: 4 as const }]);
    const response = await pinnedGet(new URL(`http://rebind.test:${port}/doc`), {
      dangerouslyAllowPrivateAddresses: true,
      timeoutMs: 2000,
      maxBytes: 100,
      lookup,
    });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok');
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(hosts).toEqual([`rebind.test:${port}`]);
  });

  it('fails with a typed error when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await pinnedGet(new URL(`http://127.0.0.1:${freePort}/doc`), {
      dangerouslyAllowPrivateAddresses: true,
      timeoutMs: 2000,
      maxBytes: 100,
      lookup: async () => [],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutboundRequestError);
    expect(error).toMatchObject({ reason: 'unreachable', message: 'outbound request failed: unreachable' });
  });
});
