import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { addressBucket, createClientIpResolver, UNRESOLVED_CLIENT } from './client-ip.js';

describe('client address', () => {
  it('uses the socket address and ignores X-Forwarded-For without trusted proxies', () => {
    const resolve = createClientIpResolver([]);
    expect(resolve('203.0.113.9', null)).toBe('203.0.113.9');
    expect(resolve('203.0.113.9', '1.2.3.4')).toBe('203.0.113.9');
    expect(resolve('::ffff:203.0.113.9', '1.2.3.4, 5.6.7.8')).toBe('203.0.113.9');
    expect(resolve('2001:0DB8:0:0::1', null)).toBe('2001:db8::1');
    expect(resolve(undefined, '1.2.3.4')).toBe(UNRESOLVED_CLIENT);
  });

  it('walks X-Forwarded-For from the right past trusted proxies only', () => {
    const resolve = createClientIpResolver(['10.0.0.0/8', '192.0.2.7', 'fd00::/8']);
    // The proxy appended the real peer; whatever the client wrote on the left is never reached.
    expect(resolve('10.1.2.3', 'spoofed, 198.51.100.4')).toBe('198.51.100.4');
    expect(resolve('10.1.2.3', '1.1.1.1, 198.51.100.4, 192.0.2.7')).toBe('198.51.100.4');
    expect(resolve('fd00::1', '198.51.100.4 , 10.9.9.9')).toBe('198.51.100.4');
    // A request straight from an untrusted peer: its header counts for nothing.
    expect(resolve('198.51.100.4', '10.0.0.1')).toBe('198.51.100.4');
  });

  it('puts unreadable chains into one shared bucket', () => {
    const resolve = createClientIpResolver(['10.0.0.0/8']);
    expect(resolve('10.1.2.3', null)).toBe(UNRESOLVED_CLIENT);
    expect(resolve('10.1.2.3', '10.2.2.2, 10.3.3.3')).toBe(UNRESOLVED_CLIENT);
    expect(resolve('10.1.2.3', '198.51.100.4, not-an-ip')).toBe(UNRESOLVED_CLIENT);
    expect(resolve('10.1.2.3', '')).toBe(UNRESOLVED_CLIENT);
  });

  it('refuses entries that are not addresses or CIDRs', () => {
    expect(() => createClientIpResolver(['proxy.internal'])).toThrow(ConfigError);
    expect(() => createClientIpResolver(['10.0.0.0/33'])).toThrow(ConfigError);
    expect(() => createClientIpResolver(['10.0.0.0/x'])).toThrow(ConfigError);
  });

  it('buckets failed logins by IPv4 address and by IPv6 /64', () => {
    expect(addressBucket('203.0.113.9')).toBe('203.0.113.9');
    expect(addressBucket(UNRESOLVED_CLIENT)).toBe(UNRESOLVED_CLIENT);
    // Every address of one /64 is one bucket, however it is written.
    expect(addressBucket('2001:db8:1:2::a:ff')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:0db8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressBucket('1::2:3:4:5:6')).toBe('1:0:0:2::/64');
    expect(addressBucket('1:2::3:4:5:6:7')).toBe('1:2:0:3::/64');
    expect(addressBucket('1:2:3:4::')).toBe('1:2:3:4::/64');
    expect(addressBucket('1:2::4:5:6.7.8.9')).toBe('1:2:0:0::/64');
    expect(addressBucket('1:2::4:5:6:6.7.8.9')).toBe('1:2:0:4::/64');
    expect(addressBucket('::1')).toBe('0:0:0:0::/64');
    expect(addressBucket('::')).toBe('0:0:0:0::/64');
    // Through the resolver: a mapped IPv4 peer is bucketed as IPv4.
    const resolve = createClientIpResolver([]);
    expect(addressBucket(resolve('::ffff:203.0.113.9', null))).toBe('203.0.113.9');
    expect(addressBucket(resolve('2001:DB8:1:2:0::7', null))).toBe('2001:db8:1:2::/64');
  });
});
