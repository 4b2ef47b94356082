import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterFamily, HistogramFamily } from './series.js';

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

describe('metric families', () => {
  it('export exactly the text prom-client writes for the same counts and observations', async () => {
    const observation = fc.record({
      tool: fc.constantFrom('echo', 'refund', ''),
      outcome: fc.constantFrom('allow', 'deny', 'error'),
      code: fc.option(fc.constantFrom('ERR_AUTH_INVALID_TOKEN', 'ERR_RATE_LIMITED'), { nil: undefined }),
      seconds: fc.oneof(fc.constantFrom(...BOUNDS), fc.double({ min: 0, max: 20, noNaN: true })),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 40 }), async (observations) => {
        const ours = new Registry();
        const theirs = new Registry();
        const calls = new CounterFamily('calls_total', 'Calls', ['tool', 'outcome']);
        const codes = new CounterFamily('codes_total', 'Codes', ['code']);
        const times = new HistogramFamily('time_seconds', 'Time', ['tool', 'outcome'], BOUNDS);
        for (const family of [calls, codes, times]) family.register(ours);
        const labels = ['tool', 'outcome'] as const;
        const calls2 = new Counter({
          name: 'calls_total',
          help: 'Calls',
          labelNames: labels,
          registers: [theirs],
        });
        const codes2 = new Counter({
          name: 'codes_total',
          help: 'Codes',
          labelNames: ['code'],
          registers: [theirs],
        });
        const times2 = new Histogram({
          name: 'time_seconds',
          help: 'Time',
          labelNames: labels,
          buckets: BOUNDS,
          registers: [theirs],
        });
        for (const o of observations) {
          calls.inc(o.tool, o.outcome);
          calls2.inc({ tool: o.tool, outcome: o.outcome });
          if (o.code) {
            codes.inc(o.code);
            codes2.inc({ code: o.code });
          }
          times.observe(o.tool, o.outcome, o.seconds);
          times2.observe({ tool: o.tool, outcome: o.outcome }, o.seconds);
        }
        expect(sorted(await ours.metrics())).toEqual(sorted(await theirs.metrics()));
      }),
      { numRuns: 100 },
    );
  });

  it('start again from nothing when the registry is reset', async () => {
    const registry = new Registry();
    const calls = new CounterFamily('calls_total', 'Calls', ['tool']);
    calls.register(registry);
    calls.inc('echo');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('calls_total{');
  });
});

/** Series lines in a stable order (the registries may list series in different orders), with help and type kept. */
function sorted(text: string): string[] {
  return text.split('\n').sort();
}
