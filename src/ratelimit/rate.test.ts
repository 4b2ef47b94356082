import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRate } from './rate.js';

describe('parseRate', () => {
  it.each([
    ['100/min', 100, 60_000],
    ['5/hour', 5, 3_600_000],
    ['20/10s', 20, 10_000],
    ['1/day', 1, 86_400_000],
    [' 7 / 2 m ', 7, 120_000],
    ['3/SEC', 3, 1000],
  ])('reads %s', (text, count, periodMs) => {
    expect(parseRate(text)).toMatchObject({ count, periodMs });
  });

  it.each(['', '0/min', '5/0s', '5', '/min', '5/fortnight', '5/min/min', '-1/min', '1e3/min', '5/__proto__'])(
    'refuses %j',
    (text) => {
      expect(parseRate(text)).toBeUndefined();
    },
  );

  it('never throws, and every rate it returns is positive and finite', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const rate = parseRate(text);
        if (rate) {
          expect(rate.count).toBeGreaterThan(0);
          expect(Number.isFinite(rate.periodMs) && rate.periodMs > 0).toBe(true);
        }
      }),
    );
  });
});
