import { ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from './error-codes.js';

/** Options of a {@link RampartError}. */
export interface RampartErrorOptions {
  /** Replaces the fixed message; must itself be client-safe (no input, tokens or internals). */
  readonly message?: string;
  /** Extra JSON-RPC `error.data`, sent to the client: keep it client-safe. */
  readonly data?: Readonly<Record<string, unknown>>;
  /** The underlying failure; only server logs see it. */
  readonly cause?: unknown;
  /** Extra response headers, such as `Allow` on a 405. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * An error caused by a request (untrusted input). It carries a stable {@link ErrorCode}, the HTTP
 * status and a fixed message; `src/core/respond.ts` is the one place that turns it into a response.
 *
 * @example
 * throw new RampartError('ERR_HTTP_BODY_TOO_LARGE');
 */
export class RampartError extends Error {
  override readonly name = 'RampartError';
  readonly code: ErrorCode;
  readonly info: ErrorCodeInfo;
  readonly data: Readonly<Record<string, unknown>> | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Whether the message may reach the client. Always true here; internal errors are plain Errors. */
  readonly expose = true;

  constructor(code: ErrorCode, options: RampartErrorOptions = {}) {
    const info: ErrorCodeInfo = ERROR_CODES[code];
    super(
      options.message ?? info.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.info = info;
    this.data = options.data;
    this.headers = options.headers;
  }

  /** The HTTP status this error is answered with. */
  get status(): number {
    return this.info.status;
  }
}

/** Raised at start-up for a bad setting; `path` names it, like `server.tls.certFile`. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}

/** True when `value` is a {@link RampartError}. */
export function isRampartError(value: unknown): value is RampartError {
  return value instanceof RampartError;
}
