import { readBody } from '../validation/body.js';

/** Read access to request headers: names are lower-case; repeated headers are joined with ", ". */
export interface HeaderReader {
  get(name: string): string | null;
  forEach(callback: (value: string, name: string) => void): void;
}

/**
 * One HTTP request as the MCP endpoint sees it. Runtime adapters build it: from a web `Request`
 * ({@link fromFetchRequest}), or straight from Node's `IncomingMessage` on the hot path, which
 * skips the web objects' allocations.
 */
export interface InboundRequest {
  readonly method: string;
  /** The absolute request URL. */
  readonly url: string;
  readonly headers: HeaderReader;
  /**
   * Reads the body, refusing more than `maxBytes` (a declared length over it before reading).
   *
   * @throws RampartError `ERR_HTTP_BODY_TOO_LARGE`.
   */
  readBody(maxBytes: number): Promise<Uint8Array>;
  /** Aborted when the client goes away. Adapters may build it on first access. */
  readonly signal: AbortSignal;
  /** The peer's IP address as the runtime reports it (the socket's), if it knows one. */
  readonly remoteAddress?: string | undefined;
}

/** A response as plain data: adapters write it without building a web `Response` where they can. */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** A JSON text, or `null` for no body. */
  readonly body: string | null;
}

/** The {@link InboundRequest} view of a web `Request`. */
export function fromFetchRequest(request: Request, remoteAddress?: string): InboundRequest {
  return new FetchInboundRequest(request, remoteAddress);
}

/** A class for the lazy `signal` getter: see the Node adapter's `NodeInboundRequest` for why. */
class FetchInboundRequest implements InboundRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: HeaderReader;
  readonly #request: Request;

  constructor(
    request: Request,
    readonly remoteAddress: string | undefined,
  ) {
    this.#request = request;
    this.method = request.method;
    this.url = request.url;
    this.headers = request.headers;
  }

  readBody(maxBytes: number): Promise<Uint8Array> {
    return readBody(this.#request, maxBytes);
  }

  get signal(): AbortSignal {
    return this.#request.signal;
  }
}

/** A web `Response` for a {@link Reply}. */
export function toResponse(reply: Reply): Response {
  return new Response(reply.body, { status: reply.status, headers: reply.headers });
}
