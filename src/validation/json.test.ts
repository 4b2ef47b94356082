import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../core/error-codes.js';
import { ConfigError, RampartError } from '../core/errors.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits, parseJsonBody, parseJsonText } from './json.js';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function codeOf(run: () => unknown): ErrorCode | 'accepted' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (error instanceof RampartError) return error.code;
    throw error;
  }
}

/** Our result must be JSON.parse's: same values, -0 kept, same prototypes, same key order. */
function expectSameAsNative(text: string, limits?: JsonLimits): void {
  const ours = parseJsonText(text, limits);
  const native: unknown = JSON.parse(text);
  expect(ours).toStrictEqual(native);
  expect(JSON.stringify(ours)).toBe(JSON.stringify(native));
}

function hasForbiddenKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasForbiddenKey);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => FORBIDDEN.has(k) || hasForbiddenKey(v));
  }
  return false;
}

describe('parseJsonText accepts what JSON.parse accepts', () => {
  it.each([
    '0',
    '-0',
    '-0.0e0',
    '1',
    '-1',
    '1.5',
    '1e5',
    '1E+5',
    '1e-5',
    '123456789012345',
    '1234567890123456',
    '9007199254740993',
    '35990956857525299',
    '-70133186322037068',
    '98753688799172504',
    '123456789012345678901234567890',
    '5e-324',
    '1e-400',
    '0.1',
    '""',
    '"\\u0000"',
    '"\\ud800"',
    '"\\udc00\\ud800x"',
    '"\\uD83D\\uDE00"',
    '"\\/\\b\\f\\n\\r\\t\\"\\\\"',
    '"a\\nb\\u00e9c"',
    '"\u007f é 😀"',
    '"\ud800"',
    `"${'x'.repeat(100)}\\n${'y'.repeat(100)}"`,
    'true',
    'false',
    'null',
    ' \t\r\n[ 1 , { "a" : [ ] } , "b" ]\n',
    '{"":1}',
    '{"a":{"a":{"a":1}}}',
    '[{"a":1},{"a":2}]',
    '{"toString":1,"hasOwnProperty":2,"valueOf":3,"__defineGetter__":4,"isPrototypeOf":5}',
    '{"1":1,"0":0,"b":2,"a":3}',
    '{"__proto":1,"proto__":2,"Constructor":3,"PROTOTYPE":4,"__proto__x":5}',
    '["__proto__","constructor",{"a":"prototype"}]',
    '[[],{},[[]],[{}],{"a":{}}]',
  ])('%s', (text) => expectSameAsNative(text));

  it('builds ordinary objects and arrays, with own enumerable properties', () => {
    const value = parseJsonText('{"toString":1,"a":[{}]}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, 'toString')).toEqual({
      value: 1,
      writable: true,
      enumerable: true,
      configurable: true,
    });
    expect(Array.isArray(value.a)).toBe(true);
    expect(Object.getPrototypeOf((value.a as unknown[])[0])).toBe(Object.prototype);
  });

  it('defines the property when an inherited name is read-only (frozen intrinsics)', () => {
    const original = Object.getOwnPropertyDescriptor(Object.prototype, 'toString')!;
    Object.defineProperty(Object.prototype, 'toString', { ...original, writable: false });
    try {
      const value = parseJsonText('{"toString":7}') as Record<string, unknown>;
      expect(Object.hasOwn(value, 'toString')).toBe(true);
      expect(value.toString).toBe(7);
    } finally {
      Object.defineProperty(Object.prototype, 'toString', original);
    }
  });
});

describe('parseJsonText rejects with the exact code', () => {
  const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
  it.each<[string, ErrorCode]>([
    ['', 'ERR_REQUEST_INVALID_JSON'],
    [' \n', 'ERR_REQUEST_INVALID_JSON'],
    ['1e400', 'ERR_REQUEST_NUMBER_OUT_OF_RANGE'],
    ['[-1e400]', 'ERR_REQUEST_NUMBER_OUT_OF_RANGE'],
    ['{"x":1e999}', 'ERR_REQUEST_NUMBER_OUT_OF_RANGE'],
    [`${'9'.repeat(400)}`, 'ERR_REQUEST_NUMBER_OUT_OF_RANGE'],
    ['{', 'ERR_REQUEST_INVALID_JSON'],
    ['}', 'ERR_REQUEST_INVALID_JSON'],
    ['[', 'ERR_REQUEST_INVALID_JSON'],
    ['[1,2', 'ERR_REQUEST_INVALID_JSON'],
    ['{"a":1', 'ERR_REQUEST_INVALID_JSON'],
    ['[1,]', 'ERR_REQUEST_INVALID_JSON'],
    ['{"a":1,}', 'ERR_REQUEST_INVALID_JSON'],
    ['[,1]', 'ERR_REQUEST_INVALID_JSON'],
    ['{,}', 'ERR_REQUEST_INVALID_JSON'],
    ['{"a"}', 'ERR_REQUEST_INVALID_JSON'],
    ['{"a":}', 'ERR_REQUEST_INVALID_JSON'],
    ['{"a" 1}', 'ERR_REQUEST_INVALID_JSON'],
    ['{a:1}', 'ERR_REQUEST_INVALID_JSON'],
    ["{'a':1}", 'ERR_REQUEST_INVALID_JSON'],
    ['{1:1}', 'ERR_REQUEST_INVALID_JSON'],
    ['[1 2]', 'ERR_REQUEST_INVALID_JSON'],
    ['{"a":1 "b":2}', 'ERR_REQUEST_INVALID_JSON'],
    ['[]]', 'ERR_REQUEST_INVALID_JSON'],
    ['{}}', 'ERR_REQUEST_INVALID_JSON'],
    ['[}', 'ERR_REQUEST_INVALID_JSON'],
    ['{]', 'ERR_REQUEST_INVALID_JSON'],
    ['"a" "b"', 'ERR_REQUEST_INVALID_JSON'],
    ['01', 'ERR_REQUEST_INVALID_JSON'],
    ['-01', 'ERR_REQUEST_INVALID_JSON'],
    ['00', 'ERR_REQUEST_INVALID_JSON'],
    ['1.', 'ERR_REQUEST_INVALID_JSON'],
    ['1.e5', 'ERR_REQUEST_INVALID_JSON'],
    ['.5', 'ERR_REQUEST_INVALID_JSON'],
    ['-', 'ERR_REQUEST_INVALID_JSON'],
    ['-a', 'ERR_REQUEST_INVALID_JSON'],
    ['+1', 'ERR_REQUEST_INVALID_JSON'],
    ['1e', 'ERR_REQUEST_INVALID_JSON'],
    ['1e+', 'ERR_REQUEST_INVALID_JSON'],
    ['1e5.5', 'ERR_REQUEST_INVALID_JSON'],
    ['0x10', 'ERR_REQUEST_INVALID_JSON'],
    ['NaN', 'ERR_REQUEST_INVALID_JSON'],
    ['Infinity', 'ERR_REQUEST_INVALID_JSON'],
    ['-Infinity', 'ERR_REQUEST_INVALID_JSON'],
    ['tru', 'ERR_REQUEST_INVALID_JSON'],
    ['nul', 'ERR_REQUEST_INVALID_JSON'],
    ['True', 'ERR_REQUEST_INVALID_JSON'],
    ['truex', 'ERR_REQUEST_INVALID_JSON'],
    ['undefined', 'ERR_REQUEST_INVALID_JSON'],
    ["'a'", 'ERR_REQUEST_INVALID_JSON'],
    ['"abc', 'ERR_REQUEST_INVALID_JSON'],
    [`"${'x'.repeat(100)}`, 'ERR_REQUEST_INVALID_JSON'],
    ['"\\"', 'ERR_REQUEST_INVALID_JSON'],
    ['"\\', 'ERR_REQUEST_INVALID_JSON'],
    ['"\\x41"', 'ERR_REQUEST_INVALID_JSON'],
    ['"\\U0041"', 'ERR_REQUEST_INVALID_JSON'],
    ['"\\u12"', 'ERR_REQUEST_INVALID_JSON'],
    ['"\\u12G4"', 'ERR_REQUEST_INVALID_JSON'],
    ['"\\u 123"', 'ERR_REQUEST_INVALID_JSON'],
    ['"a\u0001"', 'ERR_REQUEST_INVALID_JSON'],
    ['"\t"', 'ERR_REQUEST_INVALID_JSON'],
    ['"a\nb"', 'ERR_REQUEST_INVALID_JSON'],
    [`"${'x'.repeat(50)}\n"`, 'ERR_REQUEST_INVALID_JSON'],
    [`"\\n${'x'.repeat(50)}\u001f"`, 'ERR_REQUEST_INVALID_JSON'],
    ['/*c*/1', 'ERR_REQUEST_INVALID_JSON'],
    ['1 // c', 'ERR_REQUEST_INVALID_JSON'],
    ['\u00a01', 'ERR_REQUEST_INVALID_JSON'],
    ['\ufeff1', 'ERR_REQUEST_INVALID_JSON'],
    ['\u20281', 'ERR_REQUEST_INVALID_JSON'],
    ['1\u000b', 'ERR_REQUEST_INVALID_JSON'],
    ['1\f', 'ERR_REQUEST_INVALID_JSON'],
    ['{"a":1,"a":2}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"a":1,"\\u0061":2}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"\\u0061":1,"a":2}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"a/b":1,"a\\/b":2}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"":1,"":2}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"1":1,"1":2}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"a":null,"a":null}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"x":{"b":1,"b":2}}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['[{"k":1,"k":1}]', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"toString":1,"toString":2}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"a":1,"a":2', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"__proto__":{}}', 'ERR_REQUEST_FORBIDDEN_KEY'],
    ['{"constructor":1}', 'ERR_REQUEST_FORBIDDEN_KEY'],
    ['{"prototype":1}', 'ERR_REQUEST_FORBIDDEN_KEY'],
    ['{"a":[{"b":{"__proto__":1}}]}', 'ERR_REQUEST_FORBIDDEN_KEY'],
    ['{"\\u005f_proto__":1}', 'ERR_REQUEST_FORBIDDEN_KEY'],
    ['{"constructo\\u0072":1}', 'ERR_REQUEST_FORBIDDEN_KEY'],
    ['{"__proto__":1,"__proto__":2}', 'ERR_REQUEST_FORBIDDEN_KEY'],
    ['{"a":1,"a":2,"__proto__":3}', 'ERR_REQUEST_DUPLICATE_KEY'],
    ['{"prototype":', 'ERR_REQUEST_FORBIDDEN_KEY'],
    [deep(65), 'ERR_REQUEST_TOO_DEEP'],
    ['['.repeat(65), 'ERR_REQUEST_TOO_DEEP'],
    [`${'{"a":'.repeat(65)}1${'}'.repeat(65)}`, 'ERR_REQUEST_TOO_DEEP'],
    [`${'[{"a":'.repeat(33)}1${'}]'.repeat(33)}`, 'ERR_REQUEST_TOO_DEEP'],
    [`${'{"a":'.repeat(64)}{}${'}'.repeat(64)}`, 'ERR_REQUEST_TOO_DEEP'],
  ])('%j -> %s', (text, code) => {
    const error = (() => {
      try {
        parseJsonText(text);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(RampartError);
    expect((error as RampartError).code).toBe(code);
    expect((error as RampartError).message).toBe(ERROR_CODES[code].message);
  });

  it('accepts the deepest allowed nesting', () => {
    expectSameAsNative(deep(64));
    expectSameAsNative(`${'{"a":'.repeat(64)}1${'}'.repeat(64)}`);
    expectSameAsNative(`${'{"a":'.repeat(63)}{}${'}'.repeat(63)}`);
  });

  it('refuses 1e6 open brackets quickly, without deep recursion', () => {
    const started = performance.now();
    expect(codeOf(() => parseJsonText('['.repeat(1_000_000)))).toBe('ERR_REQUEST_TOO_DEEP');
    expect(codeOf(() => parseJsonText(deep(1_000_000)))).toBe('ERR_REQUEST_TOO_DEEP');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('parses 1e6 levels without a stack overflow when the limits allow it', () => {
    const limits = { maxDepth: Number.POSITIVE_INFINITY, maxElements: Number.POSITIVE_INFINITY };
    let value = parseJsonText(deep(1_000_000), limits);
    let depth = 0;
    while (Array.isArray(value)) {
      depth++;
      value = value[0];
    }
    expect(depth).toBe(1_000_000);
  });
});

describe('limits', () => {
  const limits = (overrides: Partial<JsonLimits>): JsonLimits => ({ ...DEFAULT_JSON_LIMITS, ...overrides });

  it('counts every value: objects, arrays and scalars, not keys', () => {
    // {"a":[1,"x",{"b":null}]} holds 6 values: the object, the array, 1, "x", the inner object, null.
    const text = '{"a":[1,"x",{"b":null}]}';
    expect(codeOf(() => parseJsonText(text, limits({ maxElements: 6 })))).toBe('accepted');
    expect(codeOf(() => parseJsonText(text, limits({ maxElements: 5 })))).toBe(
      'ERR_REQUEST_TOO_MANY_ELEMENTS',
    );
    expect(codeOf(() => parseJsonText('1', limits({ maxElements: 0 })))).toBe(
      'ERR_REQUEST_TOO_MANY_ELEMENTS',
    );
    expect(codeOf(() => parseJsonText('[]', limits({ maxElements: 1 })))).toBe('accepted');
  });

  it('defaults to 100,000 values', () => {
    const array = (n: number): string => `[${'0,'.repeat(n - 2)}0]`; // n - 1 zeros and the array
    expect(codeOf(() => parseJsonText(array(100_000)))).toBe('accepted');
    expect(codeOf(() => parseJsonText(array(100_001)))).toBe('ERR_REQUEST_TOO_MANY_ELEMENTS');
  });

  it('measures keys in UTF-8 bytes after unescaping, 1024 by default', () => {
    const key = (k: string): string => `{${JSON.stringify(k)}:1}`;
    expect(codeOf(() => parseJsonText(key('k'.repeat(1024))))).toBe('accepted');
    expect(codeOf(() => parseJsonText(key('k'.repeat(1025))))).toBe('ERR_REQUEST_STRING_TOO_LONG');
    expect(codeOf(() => parseJsonText(key('€'.repeat(341))))).toBe('accepted'); // 1023 bytes
    expect(codeOf(() => parseJsonText(key('€'.repeat(342))))).toBe('ERR_REQUEST_STRING_TOO_LONG');
    expect(codeOf(() => parseJsonText(key('😀'.repeat(256))))).toBe('accepted'); // 1024 bytes
    expect(codeOf(() => parseJsonText(key(`${'😀'.repeat(256)}a`)))).toBe('ERR_REQUEST_STRING_TOO_LONG');
    // 200 escapes are 1200 characters of text but 200 bytes of key.
    expect(codeOf(() => parseJsonText(`{"${'\\u0062'.repeat(200)}":1}`))).toBe('accepted');
    // Limits given without maxKeyBytes still get the default.
    const noKeyLimit = { maxDepth: 64, maxElements: 100 };
    expect(codeOf(() => parseJsonText(key('k'.repeat(1025)), noKeyLimit))).toBe(
      'ERR_REQUEST_STRING_TOO_LONG',
    );
    expect(codeOf(() => parseJsonText(key('k'.repeat(2000)), limits({ maxKeyBytes: 2000 })))).toBe(
      'accepted',
    );
  });

  it('limits string values when asked, and says which limit was hit', () => {
    const tight = limits({ maxStringBytes: 4 });
    expect(codeOf(() => parseJsonText('["abcd","é€"]', tight))).toBe('ERR_REQUEST_STRING_TOO_LONG');
    expect(codeOf(() => parseJsonText('["abcd","éé"]', tight))).toBe('accepted');
    expect(codeOf(() => parseJsonText('"\\ud800\\u0041"', tight))).toBe('accepted'); // lone surrogate: 3 bytes
    expect(codeOf(() => parseJsonText('"\\ud800ab"', tight))).toBe('ERR_REQUEST_STRING_TOO_LONG');
    expect(codeOf(() => parseJsonText(`"${'x'.repeat(1_000_000)}"`))).toBe('accepted');
    expect(() => parseJsonText('"abcde"', tight)).toThrow('Invalid request: JSON string too long');
    expect(() => parseJsonText('{"abcde":1}', limits({ maxKeyBytes: 4, maxStringBytes: 4 }))).toThrow(
      'Invalid request: JSON key too long',
    );
  });

  it.each([
    { maxDepth: Number.NaN, maxElements: 1 },
    { maxDepth: -1, maxElements: 1 },
    { maxDepth: 1, maxElements: undefined as unknown as number },
    { maxDepth: 1, maxElements: 1, maxKeyBytes: Number.NaN },
    { maxDepth: 1, maxElements: 1, maxStringBytes: '10' as unknown as number },
  ])('refuses bad limits %j with a ConfigError', (bad) => {
    expect(() => parseJsonText('1', bad)).toThrow(ConfigError);
  });
});

describe('parseJsonBody', () => {
  const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
  const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

  it('decodes UTF-8 and parses', () => {
    expect(parseJsonBody(utf8('{"name":"Grüße 😀"}'))).toEqual({ name: 'Grüße 😀' });
  });

  it('applies the limits it is given', () => {
    expect(codeOf(() => parseJsonBody(utf8('[[]]'), { maxDepth: 1, maxElements: 10 }))).toBe(
      'ERR_REQUEST_TOO_DEEP',
    );
  });

  it.each<[string, Uint8Array, ErrorCode]>([
    ['empty', bytes(), 'ERR_REQUEST_INVALID_JSON'],
    ['a UTF-8 BOM', bytes(0xef, 0xbb, 0xbf, 0x31), 'ERR_REQUEST_INVALID_JSON'],
    ['a lone BOM', bytes(0xef, 0xbb, 0xbf), 'ERR_REQUEST_INVALID_JSON'],
    ['0xFF', bytes(0x22, 0xff, 0x22), 'ERR_REQUEST_INVALID_UTF8'],
    ['an overlong NUL', bytes(0x22, 0xc0, 0x80, 0x22), 'ERR_REQUEST_INVALID_UTF8'],
    ['an overlong slash', bytes(0x22, 0xe0, 0x80, 0xaf, 0x22), 'ERR_REQUEST_INVALID_UTF8'],
    ['an encoded surrogate', bytes(0x22, 0xed, 0xa0, 0x80, 0x22), 'ERR_REQUEST_INVALID_UTF8'],
    ['a truncated sequence', bytes(0x22, 0xe2, 0x82, 0x22), 'ERR_REQUEST_INVALID_UTF8'],
    ['a truncated end', bytes(0x31, 0xe2, 0x82), 'ERR_REQUEST_INVALID_UTF8'],
    ['a stray continuation byte', bytes(0x22, 0x80, 0x22), 'ERR_REQUEST_INVALID_UTF8'],
    ['a code point above U+10FFFF', bytes(0x22, 0xf4, 0x90, 0x80, 0x80, 0x22), 'ERR_REQUEST_INVALID_UTF8'],
    ['a UTF-16 BOM', bytes(0xff, 0xfe, 0x31, 0x00), 'ERR_REQUEST_INVALID_UTF8'],
    ['invalid JSON', utf8('{"a":'), 'ERR_REQUEST_INVALID_JSON'],
  ])('refuses %s', (_name, body, code) => {
    expect(codeOf(() => parseJsonBody(body))).toBe(code);
  });
});

describe('properties', () => {
  const noForbidden = (v: unknown): boolean => !hasForbiddenKey(v);

  it('(i) JSON.stringify of any JSON value parses as JSON.parse parses it', () => {
    const values = fc.oneof(
      fc.jsonValue({ maxDepth: 6 }),
      fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }),
      fc.jsonValue({
        maxDepth: 3,
        stringUnit: fc.constantFrom('a', '\\', '"', '\u0000', '\ud800', '\udc00', '😀'),
      }),
    );
    fc.assert(
      fc.property(values.filter(noForbidden), (value) => expectSameAsNative(JSON.stringify(value))),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), (text) => {
        fc.pre(noForbidden(JSON.parse(text)));
        expectSameAsNative(text);
      }),
      { numRuns: 500 },
    );
  });

  it('(i) the same holds with every character escaped at random and random whitespace', () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }).filter(noForbidden),
        fc.infiniteStream(fc.nat(9)),
        (value, choices) => expectSameAsNative(reserialize(value, choices[Symbol.iterator]())),
      ),
      { numRuns: 300 },
    );
  });

  it('(i) any RFC 8259 number converts to the double JSON.parse gives, including long integers, or is refused when that is infinite', () => {
    const digits = (min: number, max: number) =>
      fc
        .array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max, size: 'max' })
        .map((d) => d.join(''));
    const intPart = fc.oneof(
      fc.constant('0'),
      fc.tuple(fc.constantFrom(...'123456789'), digits(0, 25)).map((p) => p.join('')),
      // 15 to 20 digits: around 2^53, where a running integer would stop being exact.
      fc.tuple(fc.constantFrom(...'123456789'), digits(14, 19)).map((p) => p.join('')),
    );
    const number = fc
      .tuple(
        fc.constantFrom('', '-'),
        intPart,
        fc.option(digits(1, 20), { nil: undefined, freq: 1 }),
        fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 4)), {
          nil: undefined,
          freq: 1,
        }),
      )
      .map(
        ([sign, int, frac, exp]) =>
          `${sign}${int}${frac === undefined ? '' : `.${frac}`}${exp ? exp.join('') : ''}`,
      );
    fc.assert(
      fc.property(number, (text) => {
        if (Number.isFinite(JSON.parse(text))) {
          expectSameAsNative(text);
          expectSameAsNative(`[${text}]`);
        } else {
          expect(codeOf(() => parseJsonText(`[${text}]`))).toBe('ERR_REQUEST_NUMBER_OUT_OF_RANGE');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('(ii) on arbitrary text: the same value or a RampartError, and always an error when JSON.parse fails', () => {
    const token = fc.constantFrom(
      ...['{', '}', '[', ']', ',', ':', '"', '"a"', '"\\u0061"', '\\', 'u', '0', '1', '9', '-', '+', '.'],
      ...['e', 'E', ' ', '\t', '\n', '\r', '\f', 'true', 'false', 'null', 'x', '/', '\u00a0', '\ufeff'],
      ...['\ud800', '\u0000', '__proto__', '"__proto__"', '"constructor"', '01', '1e5', '"\\ud800"'],
    );
    const mutated = fc
      .tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.nat(), fc.string({ maxLength: 3 }))
      .map(([text, at, cut, insert]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i + (cut % 3));
      });
    const texts = fc.oneof(
      fc.string(),
      fc.array(token, { maxLength: 30 }).map((t) => t.join('')),
      mutated,
    );
    fc.assert(
      fc.property(texts, (text) => {
        let native: unknown;
        let nativeFailed = false;
        try {
          native = JSON.parse(text);
        } catch {
          nativeFailed = true;
        }
        const outcome = codeOf(() => parseJsonText(text));
        if (nativeFailed) {
          expect(outcome).not.toBe('accepted');
        } else if (outcome === 'accepted') {
          expectSameAsNative(text);
          expect(hasForbiddenKey(native)).toBe(false);
        } else {
          // Valid JSON may only be refused for what JSON.parse does not check (the limits cannot be
          // reached by these short texts). JSON.parse keeps a forbidden key as an own property.
          expect([
            'ERR_REQUEST_DUPLICATE_KEY',
            'ERR_REQUEST_FORBIDDEN_KEY',
            'ERR_REQUEST_NUMBER_OUT_OF_RANGE',
          ]).toContain(outcome);
          if (outcome === 'ERR_REQUEST_NUMBER_OUT_OF_RANGE') expect(text).toMatch(/\d[eE]/);
          if (outcome === 'ERR_REQUEST_FORBIDDEN_KEY') expect(hasForbiddenKey(native)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('(iii) a document nested d deep is accepted iff d <= maxDepth', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 130 }), fc.nat(100), (kinds, maxDepth) => {
        // Each level is an object or an array with siblings, so that depth, not length, is what counts;
        // empty containers beside the innermost level would make it one deeper, so it has scalars.
        let text = '"leaf"';
        kinds.forEach((isObject, i) => {
          const sibling = i === 0 ? ['null', '2'] : ['[]', '{}'];
          text = isObject ? `{"s":${sibling[0]},"k":${text},"t":1}` : `[${sibling[1]},${text},0]`;
        });
        const outcome = codeOf(() => parseJsonText(text, { maxDepth, maxElements: 1_000 }));
        if (kinds.length <= maxDepth) {
          expect(outcome).toBe('accepted');
          expectSameAsNative(text, { maxDepth, maxElements: 1_000 });
        } else {
          expect(outcome).toBe('ERR_REQUEST_TOO_DEEP');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('(iv) a duplicated key is always detected, however it is escaped and however large the object', () => {
    const key = fc.string({ unit: 'binary', maxLength: 6 }).filter((k) => !FORBIDDEN.has(k));
    const value = fc.jsonValue({ maxDepth: 2 }).filter(noForbidden);
    fc.assert(
      fc.property(
        fc.uniqueArray(key, { maxLength: 60 }),
        key,
        value,
        value,
        fc.nat(),
        fc.nat(),
        fc.infiniteStream(fc.nat(9)),
        fc.nat(4),
        (others, dup, first, second, i, j, choices, wrap) => {
          const entries: [string, unknown][] = others.filter((k) => k !== dup).map((k) => [k, 0]);
          entries.splice(i % (entries.length + 1), 0, [dup, first]);
          entries.splice(j % (entries.length + 1), 0, [dup, second]);
          const stream = choices[Symbol.iterator]();
          let text = `{${entries.map(([k, v]) => `${writeString(k, stream)}:${reserialize(v, stream)}`).join(',')}}`;
          for (let w = 0; w < wrap; w++) text = w % 2 ? `[1,${text}]` : `{"w":${text}}`;
          expect(codeOf(() => parseJsonText(text))).toBe('ERR_REQUEST_DUPLICATE_KEY');
        },
      ),
      { numRuns: 500 },
    );
  });
});

/** Serializes like JSON.stringify, but escapes string characters and adds whitespace at random. */
function reserialize(value: unknown, choices: Iterator<number>): string {
  const pick = (): number => choices.next().value as number;
  const ws = (): string => ['', '', '', ' ', '\n', '\t', '\r\n  '][pick() % 7]!;
  if (Array.isArray(value))
    return `[${ws()}${value.map((v) => `${reserialize(v, choices)}${ws()}`).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(
      ([k, v]) => `${ws()}${writeString(k, choices)}${ws()}:${ws()}${reserialize(v, choices)}${ws()}`,
    );
    return `{${entries.join(',')}}`;
  }
  if (typeof value === 'string') return writeString(value, choices);
  return JSON.stringify(value);
}

function writeString(s: string, choices: Iterator<number>): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const choice = choices.next().value as number;
    const mustEscape = c < 0x20 || c === 0x22 || c === 0x5c;
    if (!mustEscape && choice < 6) out += s[i];
    else if (choice % 2 === 0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `${out}"`;
}
