import pino, { type Logger } from 'pino';

/**
 * A logger whose `err` field never throws. pino's own error serializer tags the error to find
 * cycles, which throws on a frozen or sealed error, and reads `message` and `stack`, which a
 * getter may throw from; a throw there turned an internal failure into a bare 500 with no request
 * id, no audit record and the real error lost (review 2026-11-29). Here the standard serializer
 * runs first and, when it throws, what can be read is logged instead.
 */
export function withSafeErrorLogging(logger: Logger): Logger {
  // The caller's own `err` serializer (one that scrubs, say) stays in charge; this only catches.
  const own = (logger as unknown as Record<symbol, Record<string, unknown> | undefined>)[
    pino.symbols.serializersSym
  ]?.err;
  const serialize =
    typeof own === 'function' ? (own as (value: unknown) => unknown) : pino.stdSerializers.err;
  return logger.child({}, { serializers: { err: (value: unknown) => serializeError(value, serialize) } });
}

/** `serialize` (pino's error serializer by default), falling back to what can be read of a value that defeats it. */
export function serializeError(
  value: unknown,
  serialize: (value: Error) => unknown = pino.stdSerializers.err,
): unknown {
  try {
    return serialize(value as Error);
  } catch {
    return {
      type: read(() => (value as { constructor?: { name?: unknown } }).constructor?.name),
      message: read(() => (value as { message?: unknown }).message),
      stack: read(() => (value as { stack?: unknown }).stack),
      note: 'the error could not be serialized whole',
    };
  }
}

function read(get: () => unknown): string | undefined {
  try {
    const value = get();
    return value === undefined ? undefined : String(value).slice(0, 8192);
  } catch {
    return undefined;
  }
}
