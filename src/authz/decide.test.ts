import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/principal.js';
import { decideToolAccess } from './decide.js';
import { createScopeHierarchy, parseScopeString } from './scopes.js';

const hierarchy = createScopeHierarchy({ 'mcp:admin': ['mcp:write'], 'mcp:write': ['mcp:read'] });
const principal = (scopes: string[], roles: string[] = []): Principal => ({
  subject: 'u',
  issuer: 'rampart',
  authMethod: 'api_key',
  scopes: new Set(scopes),
  roles: new Set(roles),
});

describe('decideToolAccess', () => {
  it.each([
    // [granted scopes, roles, tool scope, tool roles, expected]
    [['mcp:read'], [], 'mcp:read', undefined, { allow: true }],
    [['mcp:write'], [], 'mcp:read', undefined, { allow: true }],
    [['mcp:admin'], [], 'mcp:read', undefined, { allow: true }],
    [
      ['mcp:read'],
      [],
      'mcp:write',
      undefined,
      { allow: false, reason: 'insufficient_scope', requiredScopes: ['mcp:write'] },
    ],
    [
      [],
      [],
      'mcp:read',
      undefined,
      { allow: false, reason: 'insufficient_scope', requiredScopes: ['mcp:read'] },
    ],
    [
      ['mcp:admin'],
      [],
      'mcp:admin',
      ['admin'],
      { allow: false, reason: 'missing_role', missingRoles: ['admin'] },
    ],
    [['mcp:admin'], ['admin'], 'mcp:admin', ['admin'], { allow: true }],
    [
      ['mcp:write'],
      ['admin'],
      'mcp:admin',
      ['admin'],
      { allow: false, reason: 'insufficient_scope', requiredScopes: ['mcp:admin'] },
    ],
    [['mcp:admin'], ['admin'], undefined, undefined, { allow: false, reason: 'no_scope_declared' }],
    [['custom:x'], [], 'custom:x', undefined, { allow: true }],
  ])('%j roles %j on %s %j', (scopes, roles, scope, toolRoles, expected) => {
    expect(
      decideToolAccess(principal(scopes, roles), { name: 't', scope, roles: toolRoles }, hierarchy),
    ).toEqual(expected);
  });
});

describe('createScopeHierarchy', () => {
  it('expands transitively', () => {
    expect([...hierarchy.expand(['mcp:admin'])].sort()).toEqual(['mcp:admin', 'mcp:read', 'mcp:write']);
  });
  it('refuses cycles', () => {
    expect(() => createScopeHierarchy({ a: ['b'], b: ['a'] })).toThrow(/cycle/);
  });
  it('does not treat inherited Object properties as scopes', () => {
    expect(hierarchy.satisfies(new Set(['constructor']), 'mcp:read')).toBe(false);
  });
});

describe('parseScopeString', () => {
  it('splits, dedupes and drops invalid tokens', () => {
    expect(parseScopeString('mcp:read  mcp:read mcp:write "bad"')).toEqual(['mcp:read', 'mcp:write']);
  });
});
