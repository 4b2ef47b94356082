/** How a client was identified (MCP authorization §Client Registration, in order of preference). */
export type ClientKind = 'pre-registered' | 'metadata-document' | 'dynamic';

/**
 * An OAuth client as the authorization server knows it, whatever way it was identified. Fields
 * follow RFC 7591 §2 client metadata names.
 */
export interface OAuthClient {
  readonly clientId: string;
  readonly kind: ClientKind;
  /** Exact redirect URIs; a loopback one may differ only in its port at /authorize. */
  readonly redirectUris: readonly string[];
  /** Shown (escaped) on the consent page; defaults to the client id's host. */
  readonly clientName?: string | undefined;
  readonly clientUri?: string | undefined;
  readonly logoUri?: string | undefined;
  /** `none` for public clients; `client_secret_basic` or `client_secret_post` for confidential ones. */
  readonly tokenEndpointAuthMethod: 'none' | 'client_secret_basic' | 'client_secret_post';
  /** SHA-256 hex of the client secret, for confidential clients. */
  readonly secretHash?: string | undefined;
  /** Space-separated scopes the client may ask for; undefined means any the server knows. */
  readonly scope?: string | undefined;
  readonly grantTypes: readonly string[];
  readonly createdAt: number;
}
