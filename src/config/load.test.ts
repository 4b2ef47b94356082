import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { findLiteralSecrets } from '../secrets/index.js';
import { loadConfigFile, resolveConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('resolveConfig', () => {
  it('applies documented defaults and freezes the result', () => {
    const config = resolveConfig({});
    expect(config.server).toMatchObject({
      host: '127.0.0.1',
      port: 8787,
      path: '/mcp',
      maxBodyBytes: 1_048_576,
    });
    expect(config.authorization.hierarchy).toEqual({ 'mcp:admin': ['mcp:write'], 'mcp:write': ['mcp:read'] });
    expect(Object.isFrozen(config.server.tls)).toBe(true);
  });

  it.each([
    [{ server: { bogus: 1 } }, 'server'],
    [{ server: { port: 'x' } }, 'server.port'],
    [{ server: { port: 70000 } }, 'server.port'],
    [{ server: { allowedOrigins: ['https://a.example/path'] } }, 'server.allowedOrigins[0]'],
    [{ auth: { jwt: { issuers: [{ issuer: 'x' }] } } }, 'auth.jwt.issuers[0]'],
    [
      { auth: { jwt: { issuers: [{ issuer: 'x', jwksUrl: 'https://x/j', clockToleranceSeconds: 300 }] } } },
      'auth.jwt.issuers[0].clockToleranceSeconds',
    ],
    [{ nope: true }, '(root)'],
  ])('names the path of a bad setting: %j', (input, path) => {
    try {
      resolveConfig(input as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).path).toBe(path);
    }
  });
});

describe('loadConfigFile', () => {
  it('reads YAML', () => {
    const config = loadConfigFile(file('ok.yaml', 'server:\n  port: 9000\n'));
    expect(config.server.port).toBe(9000);
  });
  it('refuses duplicate keys', () => {
    expect(() => loadConfigFile(file('dup.yaml', 'server:\n  port: 1\n  port: 2\n'))).toThrow(ConfigError);
  });
  it('refuses YAML syntax errors', () => {
    expect(() => loadConfigFile(file('bad.yaml', 'server: [\n'))).toThrow(ConfigError);
  });
  it('refuses a missing file', () => {
    expect(() => loadConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot read/);
  });
});

describe('findLiteralSecrets', () => {
  it.each([
    [{ db: { password: 'hunter2' } }, 'db.password'],
    [{ upstream: { url: 'postgres://app:s3cret@db:5432/x' } }, 'upstream.url'],
    [{ tls: { key: '-----BEGIN PRIVATE KEY-----\nabc' } }, 'tls.key'],
    [{ aws: ['AKIAIOSFODNN7EXAMPLE'] }, 'aws[0]'],
  ])('flags %j', (value, path) => {
    expect(findLiteralSecrets(value).map((f) => f.path)).toEqual([path]);
  });
  it.each([
    [{ db: { password: 'secret://env/DB_PASSWORD' } }],
    [{ tls: { keyFile: '/etc/tls/key.pem' } }],
    [{ server: { port: 1 } }],
  ])('accepts %j', (value) => {
    expect(findLiteralSecrets(value)).toEqual([]);
  });
  it('never includes the secret in a finding', () => {
    expect(JSON.stringify(findLiteralSecrets({ password: 'hunter2' }))).not.toContain('hunter2');
  });
});
