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
});
