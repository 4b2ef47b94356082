import { hashArguments } from '../dist/audit/args-hash.js';
import { encodeEntry } from '../dist/audit/chain.js';
import { PendingRecords } from '../dist/audit/pending.js';
import { requestEntry } from '../dist/audit/request-entry.js';

const principal = {
  issuer: 'https://auth.bench.invalid',
  subject: 'bench-user',
  clientId: 'bench',
  authMethod: 'jwt',
  scopes: new Set(['mcp:read']),
};
const facts = {
  requestId: '0b6c1f1e-4a61-4e43-9d7e-1f4f3f0a9b2c',
  ip: '127.0.0.1',
  principal,
  rpcId: 1,
  method: 'tools/call',
  tool: 'echo',
  era: 'modern',
  protocol: '2026-07-28',
  argsHash: 'a'.repeat(64),
  toolOutcome: 'allow',
  toolReason: 'ok',
  code: undefined,
  cause: undefined,
  status: 200,
  durationMs: 0.12,
};
const args = { text: 'hello from the bench' };
const N = 300000;
const time = (name, f) => {
  let x;
  for (let w = 0; w < 2; w++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) x = f(i);
    const t = performance.now() - t0;
    if (w) console.log(name.padEnd(14), ((t * 1000) / N).toFixed(3), 'µs');
  }
  return x;
};
time('hashArguments', () => hashArguments(args));
const entry = time('requestEntry', () => requestEntry(facts));
const enc = time('encodeEntry', () => encodeEntry(entry));
const p = new PendingRecords();
time('push', (i) => {
  if (p.count >= 1000) p.clear();
  p.push(enc, 1732838400000 + i);
});
const out = Buffer.alloc(p.sealedBytes());
let head = { seq: 0, hash: '0'.repeat(64) };
time('sealInto', (i) => {
  const k = i % 1000;
  const r = p.sealInto(k, head, out, k * ((out.length / 1000) | 0));
  head = r.head;
  return r;
});
