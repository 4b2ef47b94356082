import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redirectUriMatches, redirectUriProblem } from './redirect-uri.js';

describe('redirectUriProblem', () => {
  it.each([
    'https://app.example/callback',
    'https://app.example:8443/cb?x=1',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:3000/callback',
    'http://[::1]:3000/cb',
    'http://localhost:8080/cb',
    'com.example.app:/oauth2redirect',
  ])('accepts %s', (uri) => expect(redirectUriProblem(uri)).toBeUndefined());

  it.each([
    ['', 'empty'],
    ['/relative/path', 'relative'],
    ['http://app.example/cb', 'plain http off loopback'],
    ['http://127.0.0.1.evil.example/cb', 'a loopback-looking host'],
    ['https://app.example/cb#frag', 'a fragment'],
    ['https://user:pass@app.example/cb', 'user info'],
    ['javascript:alert(1)', 'javascript'],
    ['JavaScript:alert(1)', 'javascript in capitals'],
    ['data:text/html,x', 'data'],
    ['file:///etc/passwd', 'file'],
    ['vbscript:msgbox', 'vbscript'],
    ['myapp:/cb', 'a private-use scheme without a dot'],
    ['https://app.example/a/%2e%2e/admin', 'encoded dots'],
    ['https://app.example/a\\b', 'a backslash'],
    [`https://app.example/${'a'.repeat(2100)}`, 'too long'],
  ])('refuses %s (%s)', (uri) => expect(redirectUriProblem(uri)).toBeTypeOf('string'));
});

describe('redirectUriMatches', () => {
  it('matches exactly, character for character', () => {
    expect(redirectUriMatches('https://a.example/cb', 'https://a.example/cb')).toBe(true);
    expect(redirectUriMatches('https://a.example/cb/', 'https://a.example/cb')).toBe(false);
    expect(redirectUriMatches('https://A.example/cb', 'https://a.example/cb')).toBe(false);
    expect(redirectUriMatches('https://a.example:443/cb', 'https://a.example/cb')).toBe(false);
  });

  it('lets a loopback redirect differ in its port only', () => {
    expect(redirectUriMatches('http://127.0.0.1:5000/cb', 'http://127.0.0.1/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:5000/cb', 'http://127.0.0.1:4000/cb')).toBe(true);
    expect(redirectUriMatches('http://[::1]:5000/cb', 'http://[::1]/cb')).toBe(true);
    expect(redirectUriMatches('http://127.0.0.1:5000/cb2', 'http://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('http://localhost:5000/cb', 'http://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('http://127.0.0.1:99999/cb', 'http://127.0.0.1/cb')).toBe(false);
    expect(redirectUriMatches('https://127.0.0.1:5000/cb', 'https://127.0.0.1/cb')).toBe(false);
  });

  it('never matches a URI that differs from a non-loopback registration', () => {
    fc.assert(
      fc.property(
        fc.webUrl({ withQueryParameters: true }),
        fc.string({ minLength: 1, maxLength: 5 }),
        (url, noise) => {
          const registered = url.replace(/^http:/, 'https:');
          expect(redirectUriMatches(registered + noise, registered)).toBe(false);
        },
      ),
    );
  });
});
