import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES } from './rules.js';
import { createSanitizer, truncationMarker } from './sanitize.js';

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

describe('redaction rules, one by one', () => {
  it('has a case for every built-in rule', () => {
    expect(Object.keys(CASES).sort()).toEqual(BUILTIN_RULES.map((r) => r.id).sort());
  });
  for (const [id, { hit, miss }] of Object.entries(CASES)) {
    it.each(hit)(`${id} redacts %j`, (input, expected) => {
      expect(only(id).text(input)).toBe(expected);
    });
    it.each(miss)(`${id} leaves %j alone`, (input) => {
      expect(only(id).text(input)).toBe(input);
    });
  }
});

describe('rule hints', () => {
  // A hint must be in every text its rule matches, or the rule would be skipped for that text.
  const pieces = Object.values(CASES).flatMap(({ hit, miss }) => [...hit.map(([input]) => input), ...miss]);
  const text = fc
    .array(fc.oneof(fc.constantFrom(...pieces), fc.string({ unit: 'binary', maxLength: 12 })), {
      maxLength: 4,
    })
    .map((parts) => parts.join(''));
  for (const rule of BUILTIN_RULES) {
    it(`${rule.id}: its hint is in everything it matches`, () => {
      const hint = new RegExp(rule.hint as string, 'i');
      for (const [input] of CASES[rule.id]?.hit ?? []) expect(hint.test(input)).toBe(true);
      fc.assert(
        fc.property(text, (t) => {
          rule.pattern.lastIndex = 0;
          if (rule.pattern.test(t)) expect(hint.test(t)).toBe(true);
        }),
        { numRuns: 300 },
      );
    });
  }

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

  it('caps the total text with a marker that says how much was cut', () => {
    const small = createSanitizer({ rules: [], maxChars: 50 });
    const { value, report } = small.result({
      content: [
        { type: 'text', text: 'a'.repeat(30) },
        { type: 'text', text: 'b'.repeat(40) },
        { type: 'text', text: 'c'.repeat(10) },
      ],
    });
    const texts = (value.content as { text: string }[]).map((c) => c.text);
    expect(report.truncated).toBe(true);
    expect(texts[0]).toBe('a'.repeat(30));
    expect(texts[1]?.startsWith('b')).toBe(true);
    expect(texts[1]).toContain('…[truncated ');
    expect(texts[2]).toBe(truncationMarker(10));
  });

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
