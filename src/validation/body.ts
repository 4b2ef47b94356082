import { RampartError } from '../core/errors.js';

/**
 * Reads a request body up to `maxBytes`. A declared `Content-Length` over the limit is refused
 * before reading; a chunked body is counted as it streams and cut off at the limit, so an
 * oversized body never sits in memory whole.
 *
 * @throws RampartError `ERR_HTTP_BODY_TOO_LARGE` (413).
 */
export async function readBody(
  request: Pick<Request, 'headers' | 'body' | 'arrayBuffer'>,
  maxBytes: number,
): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    const length = Number(declared);
    if (!Number.isSafeInteger(length) || length < 0) throw new RampartError('ERR_REQUEST_INVALID_JSON');
    if (length > maxBytes) throw new RampartError('ERR_HTTP_BODY_TOO_LARGE');
    // The HTTP parser holds the sender to its Content-Length, so this read is bounded.
    const buffer = new Uint8Array(await request.arrayBuffer());
    if (buffer.byteLength > maxBytes) throw new RampartError('ERR_HTTP_BODY_TOO_LARGE');
    return buffer;
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new RampartError('ERR_HTTP_BODY_TOO_LARGE');
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
