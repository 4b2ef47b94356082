/**
 * OAuth error codes (RFC 6749 §4.1.2.1 and §5.2, RFC 7591 §3.2.2, RFC 8707 §2, RFC 7009 §2.2.1).
 * They are part of the wire protocol: a client acts on them, so they never change meaning.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'invalid_target'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'unsupported_token_type'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'slow_down';

const STATUS: Readonly<Record<OAuthErrorCode, number>> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  invalid_target: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  unsupported_token_type: 400,
  temporarily_unavailable: 503,
  server_error: 500,
  slow_down: 429,
};

/**
 * A refusal by the authorization server. `description` reaches the client (RFC 6749
 * `error_description`), so it is written here, never copied from input; `cause` is for logs only.
 *
 * @example
 * throw new OAuthError('invalid_grant', 'the authorization code was already used');
 */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly error: OAuthErrorCode;
  readonly status: number;

  constructor(error: OAuthErrorCode, description: string, options?: { cause?: unknown; status?: number }) {
    super(description, options?.cause === undefined ? undefined : { cause: options.cause });
    this.error = error;
    this.status = options?.status ?? STATUS[error];
  }
}
