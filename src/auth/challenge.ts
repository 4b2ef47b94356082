/** What goes into a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3, RFC 9728 §5.1). */
export interface ChallengeParams {
  readonly resourceMetadataUrl: string;
  /** Scopes the operation needs (MCP 2026-07-28 authorization §Scope Selection Strategy). */
  readonly scopes?: readonly string[];
  /** Only when a credential was presented (RFC 6750 §3.1). */
  readonly error?: 'invalid_token' | 'invalid_request' | 'insufficient_scope';
  readonly errorDescription?: string;
}

/** Builds a `WWW-Authenticate` value; every parameter is a quoted-string with `"` and `\` escaped. */
export function buildBearerChallenge(params: ChallengeParams): string {
  const parts: string[] = [];
  if (params.error) parts.push(`error="${quote(params.error)}"`);
  if (params.errorDescription) parts.push(`error_description="${quote(params.errorDescription)}"`);
  if (params.scopes && params.scopes.length > 0) parts.push(`scope="${quote(params.scopes.join(' '))}"`);
  parts.push(`resource_metadata="${quote(params.resourceMetadataUrl)}"`);
  return `Bearer ${parts.join(', ')}`;
}

function quote(value: string): string {
  // RFC 9110 §5.6.4: quoted-string; drop control characters outright.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return value.replace(/[\x00-\x1f\x7f]/g, '').replace(/["\\]/g, '\\$&');
}
