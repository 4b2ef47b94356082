import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { type AccessLogFields, createAccessLog } from './access-log.js';

/** A logger like Rampart's default one, writing into an array. */
function capture(level = 'info') {
  const lines: string[] = [];
  const destination = { write: (line: string) => lines.push(line) };
  const logger = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.epochTime }, destination);
  return { lines, logger, destination };
}

const maybe = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined });
const text = fc.string({ unit: 'binary', maxLength: 30 });
const fields: fc.Arbitrary<AccessLogFields> = fc.record({
  requestId: fc.uuid(),
  method: maybe(text),
  tool: maybe(text),
  era: maybe(fc.constantFrom('modern', 'legacy')),
  principal: fc.option(fc.record({ subject: text }), { nil: undefined }),
  code: maybe(text),
  cause: maybe(text),
});

describe('access log', () => {
  it("writes, with Rampart's logger, the line pino writes (but for the time), in the same order", () => {
    const fast = capture();
    const slow = capture();
    const direct = createAccessLog(fast.logger, fast.destination);
    const viaPino = createAccessLog(slow.logger);
    fc.assert(
      fc.property(
        fields,
        fc.integer({ min: 100, max: 599 }),
        fc.double({ min: 0, max: 1e5, noNaN: true }),
        (f, status, ms) => {
          direct(f, status, ms);
          viaPino(f, status, ms);
          const a = JSON.parse(fast.lines.pop() as string);
          const b = JSON.parse(slow.lines.pop() as string);
          expect(typeof a.time).toBe('number');
          a.time = b.time;
          expect(JSON.stringify(a)).toBe(JSON.stringify(b));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps one line per request, whatever a field holds', () => {
    const { lines, logger, destination } = capture();
    createAccessLog(logger, destination)(
      {
        requestId: 'r',
        method: 'x\n{"forged":1}',
        tool: '\u2028',
        era: undefined,
        principal: undefined,
        code: undefined,
        cause: '"\\',
      },
      200,
      1.5,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(lines[0]?.slice(0, -1)).not.toContain('\n');
  });

  it('writes nothing when info is off', () => {
    const { lines, logger, destination } = capture('warn');
    createAccessLog(logger, destination)(
      {
        requestId: 'r',
        method: undefined,
        tool: undefined,
        era: undefined,
        principal: undefined,
        code: undefined,
        cause: undefined,
      },
      200,
      1,
    );
    expect(lines).toHaveLength(0);
  });
});
