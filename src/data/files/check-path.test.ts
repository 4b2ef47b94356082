import { posix, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRelativePath, isInside } from './check-path.js';

describe('checkRelativePath', () => {
  it.each([
    ['welcome.md', ['welcome.md']],
    ['guides/scopes.md', ['guides', 'scopes.md']],
    ['a b/ü-ß_1.txt', ['a b', 'ü-ß_1.txt']],
    ['x..md', ['x..md']],
  ])('accepts %j', (input, segments) => {
    expect(checkRelativePath(input)).toEqual({ ok: true, path: input, segments });
  });

  it.each([
    ['', 'not a non-empty string'],
    [42, 'not a non-empty string'],
    ['x'.repeat(4097), 'too long'],
    ['../x', 'dot segment'],
    ['a/../../x', 'dot segment'],
    ['./x', 'dot segment'],
    ['.env', 'dot segment'],
    ['a/.git/config', 'dot segment'],
    ['..', 'dot segment'],
    ['..%2fx', 'percent sign'],
    ['%2e%2e/x', 'percent sign'],
    ['%252e%252e%252fx', 'percent sign'],
    ['a%00.md', 'percent sign'],
    ['..\\x', 'backslash'],
    ['a\\b.md', 'backslash'],
    ['x\u0000.md', 'control character'],
    ['x.md\n', 'control character'],
    ['x\u007f.md', 'control character'],
    ['/etc/passwd', 'absolute path'],
    ['C:/x', 'absolute path'],
    ['a//b', 'empty segment'],
    ['a/', 'empty segment'],
  ])('refuses %j (%s)', (input, reason) => {
    expect(checkRelativePath(input)).toEqual({ ok: false, reason });
  });

  it('accepts only paths that are already normal and stay below any root (property)', () => {
    const unit = fc.constantFrom('a', 'b', '.', '/', '\\', '%', '2', 'e', 'f', '\u0000', ':', '~', 'é');
    const root = resolve('/srv/root');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit, maxLength: 12 }), fc.string({ maxLength: 12 })), (input) => {
        const result = checkRelativePath(input);
        if (!result.ok) return;
        expect(posix.normalize(input)).toBe(input);
        expect(isInside(root, resolve(root, ...result.segments))).toBe(true);
        expect(input).not.toMatch(/[%\\]|(^|\/)\./);
        expect(input.includes('\u0000')).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('isInside', () => {
  it.each([
    ['/docs', '/docs/a.md', true],
    ['/docs', '/docs/sub/a.md', true],
    ['/docs', '/docs', false],
    ['/docs', '/docs-secret/a.md', false],
    ['/docs', '/docsa.md', false],
    ['/docs', '/etc/hosts', false],
    ['/', '/etc/hosts', true],
  ])('isInside(%j, %j) is %s', (root, target, expected) => {
    expect(isInside(root.split('/').join(sep), target.split('/').join(sep))).toBe(expected);
  });
});
