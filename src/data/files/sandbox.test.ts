import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, RampartError } from '../../core/errors.js';
import { createFileSandbox, type FileSandbox } from './sandbox.js';

const isPosix = process.platform !== 'win32';
const MAX = 1024;

// base/root is the sandbox; base/root-secret is its sibling with a name sharing the prefix.
const base = realpathSync(mkdtempSync(join(tmpdir(), 'rampart-files-')));
const root = join(base, 'root');
const secret = join(base, 'root-secret');
afterAll(() => rmSync(base, { recursive: true, force: true }));

function put(path: string, content: string | Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
}
put(join(root, 'welcome.md'), '# Welcome\n');
put(join(root, 'notes.txt'), 'plain notes');
put(join(root, 'upper.MD'), 'upper');
put(join(root, 'bom.md'), Buffer.from([0xef, 0xbb, 0xbf, 0x68, 0x69]));
put(join(root, 'guides', 'scopes.md'), 'scopes: ü ✓ 😀');
put(join(root, 'guides', 'deep', 'a', 'b.md'), 'deep');
put(join(root, 'exact.md'), 'x'.repeat(MAX));
put(join(root, 'big.md'), 'x'.repeat(MAX + 1));
put(join(root, 'latin1.md'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
put(join(root, 'lone-surrogate.md'), Buffer.from([0xed, 0xa0, 0x80]));
put(join(root, '.env'), 'TOKEN=secret');
put(join(root, 'image.png'), 'png');
put(join(root, '%2e%2e%2fx.md'), 'literal percent name');
mkdirSync(join(root, 'dir.md'));
put(join(secret, 's.md'), 'SECRET');
if (isPosix) {
  symlinkSync('/etc/hosts', join(root, 'link-hosts.md'));
  symlinkSync(join(secret, 's.md'), join(root, 'link-secret.md'));
  symlinkSync('../root-secret', join(root, 'link-secret-dir'));
  symlinkSync('guides/scopes.md', join(root, 'link-inside.md'));
  symlinkSync('.env', join(root, 'link-dotenv.md'));
  symlinkSync('image.png', join(root, 'link-png.md'));
  symlinkSync('missing.md', join(root, 'dangling.md'));
  symlinkSync('guides', join(root, 'link-guides'));
  symlinkSync(root, join(base, 'root-link'));
  execFileSync('mkfifo', [join(root, 'fifo.md')]);
}

const sandbox = createFileSandbox({ root, maxBytes: MAX, allowedExtensions: ['.md', 'TXT'] });

async function refusedWith(files: FileSandbox, path: string): Promise<void> {
  const error = await files.read(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, path).toBeInstanceOf(RampartError);
  const r = error as RampartError;
  expect(r.code).toBe('ERR_TOOL_PATH_REFUSED');
  expect(r.message).toBe('File path refused');
  expect(r.info).toMatchObject({ status: 200, rpc: -32602 });
  expect(JSON.stringify({ m: r.message, c: String(r.cause) })).not.toContain(base);
}

describe('createFileSandbox read', () => {
  it.each([
    ['welcome.md', '# Welcome\n'],
    ['notes.txt', 'plain notes'],
    ['upper.MD', 'upper'],
    ['bom.md', 'hi'],
    ['guides/scopes.md', 'scopes: ü ✓ 😀'],
    ['guides/deep/a/b.md', 'deep'],
    ['exact.md', 'x'.repeat(MAX)],
  ])('reads %j', async (path, content) => {
    const file = await sandbox.read(path);
    expect(file).toEqual({ path, content, bytes: readFileSync(join(root, path)).length });
  });

  it.runIf(isPosix)('follows symlinks that stay inside the root', async () => {
    expect((await sandbox.read('link-inside.md')).content).toBe('scopes: ü ✓ 😀');
    expect((await sandbox.read('link-guides/scopes.md')).content).toBe('scopes: ü ✓ 😀');
  });

  it.runIf(isPosix)('works when the root itself is given through a symlink', async () => {
    const viaLink = createFileSandbox({ root: join(base, 'root-link') });
    expect((await viaLink.read('welcome.md')).content).toBe('# Welcome\n');
    await refusedWith(viaLink, 'link-secret.md');
  });

  const payloads = [
    '../x',
    '../root-secret/s.md',
    '..%2fx',
    '%2e%2e/x',
    '%2e%2e%2fx.md',
    '%252e%252e%252fwelcome.md',
    '/etc/passwd',
    `${root}/welcome.md`,
    'a/../../x',
    'guides/../welcome.md',
    './welcome.md',
    'x\u0000.md',
    'welcome.md\u0000',
    '..\\x',
    'guides\\scopes.md',
    'guides//scopes.md',
    'guides/',
    '',
    '.env',
    'image.png',
    'missing.md',
    'dir.md',
    'guides',
    'big.md',
    'latin1.md',
    'lone-surrogate.md',
    'C:/welcome.md',
    'x'.repeat(5000),
  ];
  it.each(payloads)('refuses %j', async (path) => {
    await refusedWith(sandbox, path);
  });

  const links = [
    'link-hosts.md',
    'link-secret.md',
    'link-secret-dir/s.md',
    'link-dotenv.md',
    'link-png.md',
    'dangling.md',
    'fifo.md',
  ];
  it.runIf(isPosix).each(links)('refuses symlink or special file %j', async (path) => {
    await refusedWith(sandbox, path);
  });

  it('refuses non-string input from untyped callers', async () => {
    for (const bad of [undefined, null, 1, ['welcome.md'], { toString: () => 'welcome.md' }]) {
      await refusedWith(sandbox, bad as unknown as string);
    }
  });

  it('reads any extension when allowedExtensions is left out, still no dot-files', async () => {
    const any = createFileSandbox({ root });
    expect((await any.read('image.png')).content).toBe('png');
    await refusedWith(any, '.env');
  });
});

describe('createFileSandbox list', () => {
  it('lists regular, readable-looking files only, sorted', async () => {
    expect(await sandbox.list()).toEqual([
      'big.md',
      'bom.md',
      'exact.md',
      'guides/deep/a/b.md',
      'guides/scopes.md',
      'latin1.md',
      'lone-surrogate.md',
      'notes.txt',
      'upper.MD',
      'welcome.md',
    ]);
  });
});

describe('createFileSandbox configuration', () => {
  it.each([
    ['root', { root: join(base, 'nope') }],
    ['root', { root: join(root, 'welcome.md') }],
    ['root', { root: '' }],
    ['maxBytes', { root, maxBytes: 0 }],
    ['maxBytes', { root, maxBytes: 1.5 }],
    ['allowedExtensions', { root, allowedExtensions: [] }],
    ['allowedExtensions[0]', { root, allowedExtensions: ['.m/d'] }],
    ['allowedExtensions[1]', { root, allowedExtensions: ['md', ''] }],
  ])('throws ConfigError at %s', (path, options) => {
    let error: unknown;
    try {
      createFileSandbox(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
  });
});

describe('createFileSandbox (property)', () => {
  // Mostly names that exist (so reads succeed and the inside-root claim is tested), mixed with
  // traversal pieces and names that lead outside through symlinks.
  const segment = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom('guides', 'deep', 'a', 'b.md', 'scopes.md', 'welcome.md', 'link-guides'),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '..',
        '.',
        '',
        'link-secret-dir',
        'link-hosts.md',
        's.md',
        'root-secret',
        '%2e%2e',
        '..\\',
      ),
    },
  );
  const known = fc.constantFrom(
    'welcome.md',
    'notes.txt',
    'guides/scopes.md',
    'guides/deep/a/b.md',
    'link-guides/scopes.md',
    'link-inside.md',
    'link-secret-dir/s.md',
    'link-hosts.md',
  );
  // A known path with random pieces around it, random segments alone, or any string.
  const pathArb = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('', '/'),
        fc.array(segment, { maxLength: 2 }),
        known,
        fc.array(segment, { maxLength: 1 }),
      )
      .map(([lead, before, path, after]) => lead + [...before, path, ...after].join('/')),
    fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')),
    fc.string({ maxLength: 20 }),
  );

  it('every path is either read from inside the root or refused', async () => {
    const realRoot = realpathSync(root);
    let read = 0;
    await fc.assert(
      fc.asyncProperty(pathArb, async (path) => {
        let file: { content: string } | undefined;
        try {
          file = await sandbox.read(path);
        } catch (error) {
          expect(error).toBeInstanceOf(RampartError);
          expect((error as RampartError).code).toBe('ERR_TOOL_PATH_REFUSED');
          return;
        }
        read++;
        const target = realpathSync(resolve(root, path));
        expect(target.startsWith(realRoot + sep)).toBe(true);
        expect(existsSync(target)).toBe(true);
        expect(file.content).toBe(readFileSync(target, 'utf8'));
      }),
      { numRuns: 1000 },
    );
    // The generator must reach real files, or the property says nothing.
    expect(read).toBeGreaterThan(15);
  });
});
