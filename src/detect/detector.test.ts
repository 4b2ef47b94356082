import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../audit/record.js';
import { type Alert, createDetector } from './detector.js';

const failure = (ip: string): AuditEntry => ({ event: 'auth.failure', outcome: 'deny', ip });
const denial = (sub: string): AuditEntry => ({
  event: 'authz.denied',
  outcome: 'deny',
  principal: { iss: 'rampart', sub, auth: 'api_key' },
});

describe('detector', () => {
  it('raises one alert when a count crosses its threshold, and again in a later window', () => {
    let clock = 0;
    const alerts: Alert[] = [];
    const d = createDetector({ authFailuresPerIp: { count: 3, windowSeconds: 60 } }, (a) => alerts.push(a), {
      now: () => clock,
    });
    for (let i = 0; i < 3; i++) d.observe(failure('203.0.113.1'));
    expect(alerts).toEqual([]);
    d.observe(failure('203.0.113.1'));
    for (let i = 0; i < 10; i++) d.observe(failure('203.0.113.1'));
    expect(alerts).toEqual([
      { kind: 'auth_failures', subjectType: 'ip', subject: '203.0.113.1', count: 4, windowSeconds: 60 },
    ]);
    d.observe(failure('203.0.113.2'));
    clock = 60_000;
    for (let i = 0; i < 4; i++) d.observe(failure('203.0.113.1'));
    expect(alerts).toHaveLength(2);
  });

  it('watches principals for denials, and ignores what it is not told to watch', () => {
    const alerts: Alert[] = [];
    const d = createDetector({ deniedPerPrincipal: { count: 1, windowSeconds: 10 } }, (a) => alerts.push(a));
    d.observe(denial('mallory'));
    d.observe(denial('mallory'));
    d.observe(failure('203.0.113.9'));
    expect(alerts).toEqual([
      { kind: 'denials', subjectType: 'principal', subject: 'rampart|mallory', count: 2, windowSeconds: 10 },
    ]);
  });

  it('counts an IPv6 client by its /64, as the failed-login budget does', () => {
    const alerts: Alert[] = [];
    const d = createDetector({ authFailuresPerIp: { count: 20, windowSeconds: 60 } }, (a) => alerts.push(a));
    for (let i = 1; i <= 21; i++) d.observe(failure(`2001:db8:1:2::${i.toString(16)}`));
    expect(alerts).toEqual([
      {
        kind: 'auth_failures',
        subjectType: 'ip',
        subject: '2001:db8:1:2::/64',
        count: 21,
        windowSeconds: 60,
      },
    ]);
  });

  it('sees a burst across the edge of a window (sliding, not fixed, windows)', () => {
    let clock = 0;
    const alerts: Alert[] = [];
    const d = createDetector({ authFailuresPerIp: { count: 20, windowSeconds: 60 } }, (a) => alerts.push(a), {
      now: () => clock,
    });
    d.observe(failure('203.0.113.1'));
    // 18 in the last millisecond of the first window and 20 in the first of the next: 20 and 20
    // in fixed windows, 39 within 2 ms.
    clock = 59_999;
    for (let i = 0; i < 18; i++) d.observe(failure('203.0.113.1'));
    clock = 60_000;
    for (let i = 0; i < 20; i++) d.observe(failure('203.0.113.1'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.count).toBe(21);
  });

  it('keeps counting a principal through a flood of fresh addresses; new subjects overflow into one', () => {
    let clock = 0;
    const alerts: Alert[] = [];
    const d = createDetector(
      {
        deniedPerPrincipal: { count: 20, windowSeconds: 60 },
        authFailuresPerIp: { count: 5, windowSeconds: 60 },
      },
      (a) => alerts.push(a),
      { maxKeys: 100, now: () => clock },
    );
    for (let i = 0; i < 15; i++) d.observe(denial('mallory'));
    clock = 1000;
    for (let i = 0; i < 1000; i++) d.observe(failure(`198.51.${i >> 8}.${i & 255}`));
    for (let i = 0; i < 15; i++) d.observe(denial('mallory'));
    expect(alerts.map((a) => `${a.kind} ${a.subject}`)).toEqual([
      'auth_failures (overflow)',
      'denials rampart|mallory',
    ]);
    // Once both windows of an old subject have ended, it makes room.
    clock = 1000 + 120_000;
    d.observe(failure('192.0.2.1'));
    for (let i = 0; i < 5; i++) d.observe(failure('192.0.2.1'));
    expect(alerts.at(-1)?.subject).toBe('192.0.2.1');
  });

  it('makes room for a new address even when a longer window of another kind is older', () => {
    let clock = 0;
    const alerts: Alert[] = [];
    const d = createDetector(
      {
        deniedPerPrincipal: { count: 100, windowSeconds: 3600 },
        authFailuresPerIp: { count: 3, windowSeconds: 60 },
      },
      (a) => alerts.push(a),
      { maxKeys: 2, now: () => clock },
    );
    d.observe(denial('mallory'));
    d.observe(failure('192.0.2.1'));
    d.observe(failure('192.0.2.2'));
    clock = 600_000; // both address windows have ended; the principal's has not
    for (const ip of ['198.51.100.1', '198.51.100.1', '198.51.100.2', '198.51.100.2']) d.observe(failure(ip));
    expect(alerts).toEqual([]);
  });

  it("counts a tool's own refusals (an allow rule, a refused path) as denials", () => {
    const alerts: Alert[] = [];
    const d = createDetector({ deniedPerPrincipal: { count: 2, windowSeconds: 60 } }, (a) => alerts.push(a));
    const refused: AuditEntry = {
      event: 'tool.call',
      outcome: 'deny',
      reason: 'ERR_TOOL_PATH_REFUSED',
      tool: 'read_file',
      principal: { iss: 'rampart', sub: 'bob', auth: 'api_key' },
    };
    // Invalid arguments are no probe: models send them all the time.
    for (let i = 0; i < 5; i++) d.observe({ ...refused, reason: 'invalid_arguments' });
    expect(alerts).toEqual([]);
    d.observe(refused);
    d.observe({ ...refused, reason: 'denied_by_rule' });
    d.observe(refused);
    d.observe({ ...refused, outcome: 'allow' });
    expect(alerts.map((a) => a.subject)).toEqual(['rampart|bob']);
  });

  it('does not mix up principals whose issuer or subject holds the separator', () => {
    const alerts: Alert[] = [];
    const d = createDetector({ deniedPerPrincipal: { count: 1, windowSeconds: 60 } }, (a) => alerts.push(a));
    const as = (iss: string, sub: string): AuditEntry => ({
      event: 'authz.denied',
      outcome: 'deny',
      principal: { iss, sub, auth: 'jwt' },
    });
    d.observe(as('https://a|b', 'c'));
    d.observe(as('https://a', 'b|c'));
    expect(alerts).toEqual([]);
  });
});
