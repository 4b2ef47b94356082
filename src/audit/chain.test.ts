import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { durationJson, encodeEntry, GENESIS, hashBody, isoTime, sealRecord } from './chain.js';
import { PendingRecords } from './pending.js';
import { AUDIT_EVENTS, type AuditEntry } from './record.js';

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
// Strings that need escaping as much as plain ones: quotes, newlines, control and lone surrogates.
const text = fc.string({ unit: 'binary', maxLength: 40 });

const entry: fc.Arbitrary<AuditEntry & { keyId?: string; mac?: string }> = fc.record({
  event: fc.constantFrom(...(Object.keys(AUDIT_EVENTS) as (keyof typeof AUDIT_EVENTS)[])),
  outcome: fc.constantFrom('allow', 'deny', 'error'),
  reason: maybe(text),
  principal: maybe(
    fc.record({
      iss: text,
      sub: text,
      client: maybe(text),
      auth: text,
      keyId: maybe(text),
    }),
  ),
  tool: maybe(text),
  method: maybe(text),
  rpcId: maybe(fc.oneof(text, fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))),
  argsHash: maybe(text),
  durationMs: maybe(fc.double({ min: 0, max: 1e6, noNaN: true })),
  ip: maybe(text),
  protocol: maybe(text),
  requestId: maybe(text),
  detail: maybe(fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })),
  keyId: maybe(text),
  mac: maybe(text),
});

describe('sealRecord', () => {
  it('writes exactly the canonical JSON that the verifier recomputes', () => {
    fc.assert(
      fc.property(
        entry,
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 4102444800000 }),
        (e, seq, at) => {
          const head = { seq, hash: GENESIS };
          const sealed = sealRecord(e, head, at);
          const parsed = JSON.parse(sealed.line) as Record<string, unknown>;
          const { hash, ...body } = parsed;
          expect(hash).toBe(sealed.hash);
          expect(sealed.line).toBe(`${canonicalJson(body).slice(0, -1)},"hash":"${hash}"}`);
          expect(hashBody(body)).toBe(hash);
          expect(body.seq).toBe(seq + 1);
          expect(body.prev).toBe(GENESIS);
          expect(body.ts).toBe(new Date(at).toISOString());
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps a newline inside a field from starting another line', () => {
    const sealed = sealRecord(
      { event: 'tool.call', outcome: 'allow', tool: 'x\n{"event":"forged"}' },
      { seq: 0, hash: GENESIS },
      0,
    );
    expect(sealed.line).not.toContain('\n');
  });
});

describe('PendingRecords', () => {
  it('seals a batch into exactly the lines sealRecord writes, chained', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(entry, fc.integer({ min: 0, max: 4102444800000 })), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        (items, seq) => {
          // A tiny first buffer, so that growing is exercised too.
          const pending = new PendingRecords(16);
          for (const [e, at] of items) pending.push(encodeEntry(e), at);
          const out = Buffer.alloc(pending.sealedBytes());
          let head = { seq, hash: GENESIS };
          let expected = '';
          let pos = 0;
          for (let i = 0; i < items.length; i++) {
            const [e, at] = items[i] as [AuditEntry, number];
            const sealed = sealRecord(e, head, at);
            expected += `${sealed.line}\n`;
            const next = pending.sealInto(i, head, out, pos);
            expect(next.head).toEqual({ seq: sealed.seq, hash: sealed.hash });
            head = next.head;
            pos = next.end;
          }
          expect(out.subarray(0, pos).toString('utf8')).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('durationJson', () => {
  it('writes what JSON.stringify writes, for rounded durations and any other number', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 200_000 }).map((c) => c / 100),
          fc.double({ min: 0, max: 1e7, noNaN: true }),
        ),
        (ms) => {
          expect(durationJson(ms)).toBe(JSON.stringify(ms));
          expect(durationJson(ms)).toBe(JSON.stringify(ms)); // cached the second time
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('isoTime', () => {
  it('matches Date#toISOString, also across second boundaries and out of order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4102444800000 }), { minLength: 1 }), (times) => {
        for (const at of [...times, ...times.map((t) => t + 1), ...times.map((t) => t - 1)]) {
          if (at >= 0) expect(isoTime(at)).toBe(new Date(at).toISOString());
        }
      }),
    );
  });
});
