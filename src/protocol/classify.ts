import { RampartError } from '../core/errors.js';
import { decodeMcpHeaderValue } from '../validation/header-value.js';
import type { JsonRpcMessage } from './envelope.js';
import {
  isLegacyVersion,
  isModernVersion,
  LEGACY_DEFAULT_VERSION,
  META_CLIENT_CAPABILITIES,
  META_PROTOCOL_VERSION,
  supportedVersions,
} from './versions.js';

/** Which protocol era a request belongs to, and at which version. */
export interface Classified {
  readonly era: 'modern' | 'legacy';
  readonly version: string;
}

/** Methods whose `Mcp-Name` header mirrors `params.name` or `params.uri` (transports §Standard Request Headers). */
const NAME_SOURCE: Readonly<Record<string, 'name' | 'uri'>> = Object.assign(Object.create(null), {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
});

/**
 * Decides the era of a request and enforces header/body consistency (2026-07-28 transports
 * §Server Validation, versioning §Backward Compatibility).
 *
 * Modern requests must mirror version, method and name in headers. Legacy requests need not, but
 * any mirrored header they do carry must agree with the body too: the boundary authorizes on the
 * body, and nothing in front of it may route or rate-limit on a header that says otherwise.
 *
 * @throws RampartError `ERR_PROTOCOL_HEADER_MISMATCH`, `ERR_PROTOCOL_UNSUPPORTED_VERSION` or
 *   `ERR_PROTOCOL_MISSING_META`.
 */
export function classifyRequest(
  message: JsonRpcMessage,
  headers: { get(name: string): string | null },
  legacyEnabled: boolean,
): Classified {
  const headerVersion = headers.get('mcp-protocol-version');
  const meta = readMeta(message.params);
  const metaVersion = meta?.[META_PROTOCOL_VERSION];

  checkMirroredHeaders(message, headers);

  // Per-request `_meta` makes a request modern, `initialize` included: 2026-07-28 removed that
  // method, so a modern `initialize` is answered 404 rather than as a legacy handshake.
  if (metaVersion !== undefined) {
    if (typeof metaVersion !== 'string') throw new RampartError('ERR_PROTOCOL_MISSING_META');
    if (headerVersion === null) throw mismatch('MCP-Protocol-Version header is required');
    if (headerVersion !== metaVersion) throw mismatch('MCP-Protocol-Version does not match _meta');
    if (!isModernVersion(metaVersion)) throw unsupported(metaVersion, legacyEnabled);
    const caps = meta?.[META_CLIENT_CAPABILITIES];
    if (caps === null || typeof caps !== 'object' || Array.isArray(caps)) {
      throw new RampartError('ERR_PROTOCOL_MISSING_META');
    }
    if (headers.get('mcp-method') === null) throw mismatch('Mcp-Method header is required');
    if (Object.hasOwn(NAME_SOURCE, message.method) && headers.get('mcp-name') === null) {
      throw mismatch('Mcp-Name header is required');
    }
    return { era: 'modern', version: metaVersion };
  }

  // A modern version in the header but no per-request _meta: malformed modern request.
  if (headerVersion !== null && isModernVersion(headerVersion)) {
    throw new RampartError('ERR_PROTOCOL_MISSING_META');
  }
  if (!legacyEnabled) throw unsupported(headerVersion ?? LEGACY_DEFAULT_VERSION, false);
  if (message.method === 'initialize') {
    return { era: 'legacy', version: headerVersion && isLegacyVersion(headerVersion) ? headerVersion : '' };
  }
  const version = headerVersion ?? LEGACY_DEFAULT_VERSION;
  if (!isLegacyVersion(version)) throw unsupported(version, legacyEnabled);
  return { era: 'legacy', version };
}

function checkMirroredHeaders(message: JsonRpcMessage, headers: { get(name: string): string | null }): void {
  const method = headers.get('mcp-method');
  if (method !== null && method !== message.method) throw mismatch('Mcp-Method does not match the body');
  const rawName = headers.get('mcp-name');
  const source = NAME_SOURCE[message.method];
  if (rawName === null) return;
  const name = decodeMcpHeaderValue(rawName);
  if (name === null) throw mismatch('Mcp-Name header value is malformed');
  const bodyName = source ? message.params?.[source] : undefined;
  if (typeof bodyName !== 'string' || bodyName !== name) throw mismatch('Mcp-Name does not match the body');
}

function readMeta(
  params: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> | undefined {
  const meta = params?._meta;
  return meta !== null && typeof meta === 'object' && !Array.isArray(meta)
    ? (meta as Record<string, unknown>)
    : undefined;
}

function mismatch(detail: string): RampartError {
  return new RampartError('ERR_PROTOCOL_HEADER_MISMATCH', { message: `Header mismatch: ${detail}` });
}

function unsupported(requested: string, legacyEnabled: boolean): RampartError {
  // The requested version is echoed only when it is short and plain: it is client input.
  const safe = /^[0-9A-Za-z.-]{1,32}$/.test(requested) ? requested : undefined;
  return new RampartError('ERR_PROTOCOL_UNSUPPORTED_VERSION', {
    data: { supported: supportedVersions(legacyEnabled), ...(safe ? { requested: safe } : {}) },
  });
}
