import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES } from './rules.js';
import { createSanitizer, TOO_DEEP, truncationMarker } from './sanitize.js';

const sanitizer = createSanitizer({ rules: BUILTIN_RULES, maxChars: 10_000 });
const only = (id: string) =>
  createSanitizer({ rules: BUILTIN_RULES.filter((r) => r.id === id), maxChars: 10_000 });

// Each rule on its own: what it must catch, and look-alikes it must leave alone.
const CASES: Record<string, { hit: [string, string][]; miss: string[] }> = {
  'private-key': {
    hit: [
      [
        'key: -----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY----- end',
        'key: -----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY----- end',
      ],
      [
        '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
        '-----BEGIN PRIVATE KEY-----[REDACTED]-----END PRIVATE KEY-----',
      ],
    ],
    miss: ['-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----', '-----BEGIN CERTIFICATE-----'],
  },
  'aws-access-key': {
    hit: [['id AKIAIOSFODNN7EXAMPLE ok', 'id [REDACTED] ok']],
    miss: ['AKIA-not-a-key', 'XAKIAIOSFODNN7EXAMPLE'],
  },
  'aws-secret-key': {
    hit: [
      [
        'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        'aws_secret_access_key = [REDACTED]',
      ],
      ['"AWS_SECRET":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', '"AWS_SECRET":"[REDACTED]"'],
    ],
    miss: ['aws_region = eu-west-1'],
  },
  jwt: {
    hit: [['token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2ln done', 'token [REDACTED] done']],
    miss: ['eyJ.eyJ.x', 'version 1.2.3'],
  },
  'bearer-token': {
    hit: [['Authorization: Bearer abcdef0123456789abcdef', 'Authorization: Bearer [REDACTED]']],
    miss: ['the bearer of bad news'],
  },
  'rampart-api-key': {
    hit: [[`rmp_${'a'.repeat(43)}_abc123`, '[REDACTED]']],
    miss: ['rmp_short'],
  },
  'stripe-key': {
    hit: [['sk_live_4eC39HqLyjWDarjtT1zdp7dc', '[REDACTED]']],
    miss: ['sk_live_', 'task_list_items'],
  },
  'openai-style-key': {
    hit: [
      ['sk-proj-abcdefghijklmnopqrstuvwx', '[REDACTED]'],
      ['key=sk-abcdefghijklmnopqrstuvwxyz', 'key=[REDACTED]'],
    ],
    miss: ['sk-short', 'desk-lamp'],
  },
  'github-token': {
    hit: [[`ghp_${'A'.repeat(36)}`, '[REDACTED]']],
    miss: ['ghp_short'],
  },
  'slack-token': {
    hit: [['xoxb-1234567890-abcdefghij', '[REDACTED]']],
    miss: ['xox-nope'],
  },
  'google-api-key': {
    hit: [[`AIza${'B'.repeat(35)}`, '[REDACTED]']],
    miss: ['AIzaShort'],
  },
  'connection-string-password': {
    hit: [
      ['postgres://app:s3cr3t@db.internal:5432/prod', 'postgres://app:[REDACTED]@db.internal:5432/prod'],
      ['redis://:hunter2@cache:6379', 'redis://:[REDACTED]@cache:6379'],
    ],
    miss: ['https://example.com/a:b', 'mailto:alice@example.com'],
  },
  'secret-assignment': {
    hit: [
      ['password=hunter2 user=bob', 'password=[REDACTED] user=bob'],
      ['{"client_secret": "abc def"}', '{"client_secret": "[REDACTED]"}'],
      ['DB_PASSWORD: x9', 'DB_PASSWORD: [REDACTED]'],
      ['DB_PWD=hunter2', 'DB_PWD=[REDACTED]'],
    ],
    miss: ['password reset link sent', 'the secret garden', 'pwd: /home/alice'],
  },
};

// More cases for every rule, and the timing tests, are in rules.test.ts.
describe('redaction rules, one by one, through the sanitizer', () => {
  for (const [id, { hit, miss }] of Object.entries(CASES)) {
    it.each(hit)(`${id} redacts %j`, (input, expected) => {
      expect(only(id).text(input)).toBe(expected);
    });
    it.each(miss)(`${id} leaves %j alone`, (input) => {
      expect(only(id).text(input)).toBe(input);
    });
  }
});

describe('hints', () => {
  // That every built-in hint is in whatever its rule matches: rules.test.ts.
  it('a result with nothing to clean leaves as it came, a config rule without a hint still runs', () => {
    const custom = createSanitizer({
      rules: [...BUILTIN_RULES, { id: 'ticket', description: 'x', pattern: /TCK-\d+/g, replacement: 'T' }],
      maxChars: 100,
    });
    const plain = { content: [{ type: 'text', text: 'hello' }] };
    expect(custom.result(plain).value).toBe(plain);
    expect(custom.result({ content: [{ type: 'text', text: 'see TCK-12' }] }).value).toEqual({
      content: [{ type: 'text', text: 'see T' }],
    });
  });
});

describe('tool results', () => {
  it('strips ANSI escapes and control characters but keeps newlines and tabs', () => {
    const { value, report } = sanitizer.result({
      content: [
        { type: 'text', text: '\u001b[31mred\u001b[0m\tand\nnext\u0000\u0007\r\u001b]0;title\u0007!' },
      ],
    });
    expect(value).toEqual({ content: [{ type: 'text', text: 'red\tand\nnext!' }] });
    expect(report.controlCharsRemoved).toBeGreaterThan(0);
  });

  it('cleans structured content and resource text, leaves binary data as it is', () => {
    const data =
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const { value, report } = sanitizer.result({
      content: [
        { type: 'image', data, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///env', text: 'password=abc' } },
      ],
      structuredContent: { rows: [{ dsn: 'mysql://root:toor@10.0.0.5/db', n: 3 }] },
    });
    expect(value).toEqual({
      content: [
        { type: 'image', data, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///env', text: 'password=[REDACTED]' } },
      ],
      structuredContent: { rows: [{ dsn: 'mysql://root:[REDACTED]@10.0.0.5/db', n: 3 }] },
    });
    expect([...report.redacted].sort()).toEqual(['connection-string-password', 'secret-assignment']);
  });

  it('caps the total text: the string that crosses the cap ends in one marker, later text is emptied', () => {
    // Keys and names count too: "content" (7), then per item "type", "text" and "text" (12).
    const small = createSanitizer({ rules: [], maxChars: 100 });
    const { value, report } = small.result({
      content: [
        { type: 'text', text: 'a'.repeat(30) },
        { type: 'text', text: 'b'.repeat(40) },
        { type: 'text', text: 'c'.repeat(10) },
      ],
    });
    expect(report.truncated).toBe(true);
    expect(value).toEqual({
      content: [
        { type: 'text', text: 'a'.repeat(30) },
        { type: 'text', text: `${'b'.repeat(39)}${truncationMarker(11)}` },
        { type: 'text', text: '' },
      ],
    });
  });

  it('never cuts names, so a capped result is still valid MCP', () => {
    const tiny = createSanitizer({ rules: [], maxChars: 10 });
    const { value } = tiny.result({
      content: [
        { type: 'text', text: 'x'.repeat(50) },
        { type: 'resource', resource: { uri: 'file:///a', mimeType: 'text/plain', text: 'y'.repeat(50) } },
      ],
    });
    expect(value).toEqual({
      content: [
        { type: 'text', text: truncationMarker(100) },
        { type: 'resource', resource: { uri: 'file:///a', mimeType: 'text/plain', text: '' } },
      ],
    });
  });

  it('does not split a surrogate pair at the cut', () => {
    const cap = createSanitizer({ rules: [], maxChars: 'content'.length + 12 + 3 });
    const { value } = cap.result({ content: [{ type: 'text', text: 'ab😀cd' }] });
    const text = (value.content as { text: string }[])[0]?.text ?? '';
    expect(text.startsWith('ab…')).toBe(true);
    expect(/\p{Cs}/u.test(text)).toBe(false); // no lone surrogate
  });

  it('never lets more text than the cap through, plus one marker', () => {
    const cap = 200;
    const capped = createSanitizer({ rules: BUILTIN_RULES, maxChars: cap });
    const item = fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 120 }) });
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 30 }),
        fc.dictionary(fc.string(), fc.string()),
        (content, extra) => {
          const { value } = capped.result({ content, structuredContent: extra });
          expect(textChars(value)).toBeLessThanOrEqual(cap + truncationMarker(1_000_000).length);
        },
      ),
    );
  });
});

/** Characters of the strings that are text, not names (`type` values) or keys. */
function textChars(value: unknown, key = ''): number {
  if (typeof value === 'string') return key === 'type' ? 0 : value.length;
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  for (const [k, v] of Object.entries(value)) n += textChars(v, k);
  return n;
}

describe('what a result holds, wherever it is', () => {
  it('empties strings under credential field names and cleans keys', () => {
    const { value, report } = sanitizer.result({
      content: [{ type: 'text', text: 'ok' }],
      structuredContent: {
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        db: { password: 'hunter2-prod', 'client-secret': 'abc', port: 5432, pin: 1234 },
        sk_live_4eC39HqLyjWDarjtT1zdp7dc: 'enabled',
        next_page_token: 'page-2',
        usage: { total_tokens: 12 },
      },
    });
    expect(value.structuredContent).toEqual({
      AWS_SECRET_ACCESS_KEY: '[REDACTED]',
      db: { password: '[REDACTED]', 'client-secret': '[REDACTED]', port: 5432, pin: 1234 },
      '[REDACTED]': 'enabled',
      next_page_token: 'page-2',
      usage: { total_tokens: 12 },
    });
    expect(report.redacted).toEqual(expect.arrayContaining(['secret-field', 'stripe-key']));
  });

  it('leaves a result alone whose keys only look like secrets (no copy, schemas still match)', () => {
    const result = {
      content: [{ type: 'text', text: 'ok' }],
      structuredContent: {
        usage: { input_tokens: 12, secret_count: 3 },
        authorization: 'approved',
        pin: '0042',
      },
    };
    const { value, report } = sanitizer.result(result);
    expect(value).toBe(result);
    expect(report.redacted).toEqual([]);
  });

  it('skips base64 only where MCP puts it: image and audio data, resource blobs', () => {
    const dsn = 'postgres://app:s3cretPW@db/prod';
    const { value } = sanitizer.result({
      content: [
        { type: 'image', data: 'iVBORw0K', mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'file:///b', blob: 'AAAA' } },
      ],
      structuredContent: { data: { dsn }, blob: dsn },
    });
    expect(value.content).toEqual([
      { type: 'image', data: 'iVBORw0K', mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'file:///b', blob: 'AAAA' } },
    ]);
    expect(JSON.stringify(value.structuredContent)).not.toContain('s3cretPW');
  });

  it('cleans what an object serializes as (toJSON, class instances), not what it looks like', () => {
    class Row {
      constructor(readonly dsn: string) {}
    }
    const { value } = sanitizer.result({
      content: [{ type: 'text', text: 'ok' }],
      structuredContent: {
        url: new URL('postgres://app:s3cretPW@db/prod'),
        row: new Row('mysql://a:b4dPass@h/d'),
      },
    });
    const wire = JSON.stringify(value);
    expect(wire).not.toContain('s3cretPW');
    expect(wire).not.toContain('b4dPass');
  });

  it('drops what is nested deeper than 64 levels instead of passing it unseen', () => {
    let deep: unknown = { key: 'AKIAIOSFODNN7EXAMPLE', esc: '\u001b]0;x\u0007' };
    for (let i = 0; i < 70; i++) deep = { deep };
    const { value, report } = sanitizer.result({
      content: [{ type: 'text', text: 'ok' }],
      structuredContent: deep,
    });
    expect(JSON.stringify(value)).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(JSON.stringify(value)).toContain(TOO_DEEP);
    expect(report.truncated).toBe(true);
  });

  it('strips C1 controls, 8-bit CSI and OSC, and bidirectional overrides', () => {
    const text = sanitizer.text('a\u009b31mb\u009d0;t\u0007c\u0085d\u202eevil\u202c\u2066e\u2069');
    expect(text).toBe('abcdevile');
  });

  it('cleans a listing whole and cuts nothing', () => {
    const long = 'z'.repeat(20_000);
    const { value } = sanitizer.listing({
      tools: [{ name: 'q', description: `uses postgres://u:pw123456@h/db \u001b[2J${long}` }],
    });
    expect(value.tools[0]?.description).toBe(`uses postgres://u:[REDACTED]@h/db ${long}`);
  });
});

describe('the other rules of a result', () => {
  it('never throws and never lets a known secret through, whatever surrounds it', () => {
    const secret = `sk_live_${'Z'.repeat(24)}`;
    fc.assert(
      fc.property(fc.string(), fc.string(), (before, after) => {
        const text = sanitizer.text(`${before} ${secret} ${after}`);
        expect(text).not.toContain(secret);
      }),
    );
  });
});
