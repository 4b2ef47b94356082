/** The current, stateless MCP revision (per-request `_meta`, no initialize). */
export const MODERN_VERSIONS = ['2026-07-28'] as const;
/** Handshake-era revisions still served on the same endpoint (newest first). */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
/** What a legacy request without `MCP-Protocol-Version` is taken to be (2026-07-28 transports §Protocol Version Header). */
export const LEGACY_DEFAULT_VERSION = '2025-03-26';

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

const MODERN = new Set<string>(MODERN_VERSIONS);
const LEGACY = new Set<string>(LEGACY_VERSIONS);

export function isModernVersion(version: string): boolean {
  return MODERN.has(version);
}

export function isLegacyVersion(version: string): boolean {
  return LEGACY.has(version);
}

/** Every version this server can speak, given whether legacy is on. */
export function supportedVersions(legacyEnabled: boolean): string[] {
  return legacyEnabled ? [...MODERN_VERSIONS, ...LEGACY_VERSIONS] : [...MODERN_VERSIONS];
}
