import { describe, expect, it } from 'vitest';
import { MountedServerFault, readReply } from './reply.js';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const sse = (events: unknown[]) =>
  new Response(events.map((e) => `event: message\ndata: ${JSON.stringify(e)}\n\n`).join(''), {
    headers: { 'content-type': 'text/event-stream' },
  });

describe('readReply', () => {
  it('reads a JSON result and a JSON-RPC error with its status', async () => {
    expect(await readReply(json({ jsonrpc: '2.0', id: 3, result: { ok: 1 } }), 3)).toEqual({
      result: { ok: 1 },
    });
    expect(
      await readReply(json({ jsonrpc: '2.0', id: 'a', error: { code: -32601, message: 'nope' } }, 404), 'a'),
    ).toEqual({ error: { code: -32601, message: 'nope' }, status: 404 });
  });

  it('keeps only the response to the request id from an SSE stream', async () => {
    const reply = await readReply(
      sse([
        { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info' } },
        { jsonrpc: '2.0', id: 7, result: { content: [] } },
      ]),
      7,
    );
    expect(reply).toEqual({ result: { content: [] } });
  });

  it('answers notifications with nothing', async () => {
    expect(await readReply(new Response(null, { status: 202 }), undefined)).toBeUndefined();
  });

  it('treats an answer to another id, or no JSON-RPC at all, as a fault of the mounted server', async () => {
    await expect(readReply(json({ jsonrpc: '2.0', id: 2, result: {} }), 1)).rejects.toThrow(
      /no JSON-RPC response/,
    );
    await expect(readReply(new Response('<html>', { status: 500 }), 1)).rejects.toThrow(/HTTP 500/);
  });

  it('caps the message length and maps a 5xx answer to 200', async () => {
    const reply = await readReply(
      json({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'x'.repeat(2000) } }, 500),
      1,
    );
    expect(reply && 'error' in reply && reply.status).toBe(200);
    expect(reply && 'error' in reply && reply.error.message.length).toBe(500);
  });

  it('never passes on the text of an internal error: it is a fault, for the log', async () => {
    const reading = readReply(
      json({
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32603, message: 'ECONNREFUSED password=hunter2', data: { stack: 'at x' } },
      }),
      1,
    );
    await expect(reading).rejects.toThrow(MountedServerFault);
    await expect(reading).rejects.toThrow(/error -32603: ECONNREFUSED/);
  });

  it('treats any code but the protocol errors a client acts on as internal', async () => {
    // Codes of their own (gRPC, MongoDB, errno), SDK transport errors, and the JSON-RPC libraries'
    // "server error" range, where a raw SQLite message came through.
    for (const code of [14, 11000, -1, 1, -32000, -32001, -32050, -32099, -32768, -32500]) {
      await expect(
        readReply(
          json({ jsonrpc: '2.0', id: 1, error: { code, message: 'SQLITE_ERROR in /srv/app/prod.sqlite' } }),
          1,
        ),
      ).rejects.toThrow(MountedServerFault);
    }
  });

  it('passes a protocol error’s first line only, and data only where MCP defines it', async () => {
    const invalid = await readReply(
      json({
        jsonrpc: '2.0',
        id: 1,
        error: {
          code: -32602,
          message: 'Invalid params: q\n    at parse (/srv/app.js:8:1)',
          data: { stack: 'x' },
        },
      }),
      1,
    );
    expect(invalid).toEqual({ error: { code: -32602, message: 'Invalid params: q' }, status: 200 });
    const missing = await readReply(
      json({
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32002, message: 'Resource not found', data: { uri: 'a://b' } },
      }),
      1,
    );
    expect(missing).toEqual({
      error: { code: -32002, message: 'Resource not found', data: { uri: 'a://b' } },
      status: 200,
    });
  });
});
