import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { withSafeErrorLogging } from './safe-error-log.js';

function capture(options: pino.LoggerOptions = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino(options, sink), lines };
}

describe('withSafeErrorLogging', () => {
  it("keeps the caller's own err serializer (one that scrubs)", () => {
    const { logger, lines } = capture({ serializers: { err: () => '[scrubbed by the user]' } });
    withSafeErrorLogging(logger).error({ err: new Error('password=hunter2') }, 'failed');
    expect(lines[0]?.err).toBe('[scrubbed by the user]');
  });

  it('logs what can be read of an error the serializer cannot handle, instead of throwing', () => {
    const { logger, lines } = capture();
    const error = Object.freeze(
      Object.defineProperty(new Error('disk full'), 'code', {
        get() {
          throw new Error('no');
        },
      }),
    );
    expect(() => withSafeErrorLogging(logger).error({ err: error }, 'failed')).not.toThrow();
    expect(lines[0]?.err).toMatchObject({ type: 'Error', message: 'disk full' });
  });
});
