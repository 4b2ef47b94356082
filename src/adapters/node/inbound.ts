import type { IncomingMessage, ServerResponse } from 'node:http';
import { RampartError } from '../../core/errors.js';
import type { HeaderReader, InboundRequest, Reply } from '../../core/exchange.js';

/**
 * The MCP endpoint's view of a Node request, without web `Request`/`Headers` objects.
 *
 * Why by hand: @hono/node-server's `Request` emulation, the `Headers` it builds on first access, the
 * body stream and the `Response` cost ~30 µs of the endpoint's ~110 µs a request and a good share
 * of its garbage (bench/run.mjs --profile, 2026-11-28). Other routes still go through Hono.
 */
export function fromIncomingMessage(
  req: IncomingMessage,
  res: ServerResponse,
  scheme: string,
): InboundRequest {
  return new NodeInboundRequest(req, res, scheme);
}

/**
 * A class, not an object literal: a literal with getters that close over the request gets a hidden
 * class of its own in old space every time, which keeps the whole request alive through young
 * collections; every request was promoted and scavenges took ~10 ms instead of ~0.5
 * (`--trace-gc-nvp` under bench/run.mjs, 2026-11-28).
 */
class NodeInboundRequest implements InboundRequest {
  readonly remoteAddress: string | undefined;
  readonly method: string;
  readonly headers: HeaderReader;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #scheme: string;
  #controller: AbortController | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, scheme: string) {
    this.#req = req;
    this.#res = res;
    this.#scheme = scheme;
    this.remoteAddress = req.socket.remoteAddress;
    this.method = req.method ?? 'GET';
    this.headers = headerReader(req);
  }

  get url(): string {
    return `${this.#scheme}://${this.#req.headers.host ?? 'localhost'}${this.#req.url ?? '/'}`;
  }

  readBody(maxBytes: number): Promise<Uint8Array> {
    return readNodeBody(this.#req, maxBytes);
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      const res = this.#res;
      res.once('close', () => {
        if (!res.writableFinished) controller.abort();
      });
    }
    return this.#controller.signal;
  }
}

/** Writes a {@link Reply}; a 413 also closes the connection rather than draining an unread body. */
export function writeReply(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string | number> = { ...reply.headers };
  if (reply.body !== null) headers['content-length'] = Buffer.byteLength(reply.body);
  if (reply.status === 413) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(reply.body ?? undefined);
}

/**
 * Node keeps only the first of some repeated headers (Authorization, Host, Content-Type…) and
 * joins the others; fetch's `Headers` joins them all. A request with any repeated header gets the
 * `Headers` semantics, so two Authorization headers fail the credential syntax check (fail closed)
 * on every runtime alike.
 */
export function headerReader(req: IncomingMessage): HeaderReader {
  const raw = req.rawHeaders;
  const parsed = req.headers;
  if (raw.length / 2 !== Object.keys(parsed).length) {
    const headers = new Headers();
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
    return headers;
  }
  return {
    get(name) {
      const value = parsed[name];
      return value === undefined ? null : typeof value === 'string' ? value : value.join(', ');
    },
    forEach(callback) {
      for (const name of Object.keys(parsed)) {
        const value = parsed[name];
        if (value !== undefined) callback(typeof value === 'string' ? value : value.join(', '), name);
      }
    },
  };
}

/**
 * Reads a body up to `maxBytes`: a declared length over it is refused before reading, a chunked
 * body is counted as it arrives and refused at the limit, so an oversized body never sits in memory.
 */
function readNodeBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const length = Number(declared);
    if (!Number.isSafeInteger(length) || length < 0)
      return Promise.reject(new RampartError('ERR_REQUEST_INVALID_JSON'));
    if (length > maxBytes) return Promise.reject(new RampartError('ERR_HTTP_BODY_TOO_LARGE'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        done();
        req.pause();
        reject(new RampartError('ERR_HTTP_BODY_TOO_LARGE'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    const onClose = () => {
      if (req.complete) return;
      done();
      reject(new Error('client closed the connection before sending the whole body'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
