/** Inputs of the RFC 9728 protected resource metadata document. */
export interface ResourceMetadataOptions {
  /** The canonical resource URI of the MCP endpoint (RFC 8707), e.g. `https://mcp.example.com/mcp`. */
  readonly resource: string;
  readonly authorizationServers: readonly string[];
  readonly scopesSupported: readonly string[];
  readonly resourceName?: string;
}

/** The document served at `/.well-known/oauth-protected-resource/<path>` (RFC 9728 §2, §3.1). */
export function buildResourceMetadata(options: ResourceMetadataOptions): Record<string, unknown> {
  return {
    resource: options.resource,
    ...(options.authorizationServers.length > 0
      ? { authorization_servers: options.authorizationServers }
      : {}),
    scopes_supported: options.scopesSupported,
    // RFC 6750 §2.1 only: query-string and form-body tokens are refused.
    bearer_methods_supported: ['header'],
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
  };
}

/**
 * The metadata URL for a resource: the well-known segment goes between the origin and the path
 * (RFC 9728 §3.1), so `https://h/mcp` has `https://h/.well-known/oauth-protected-resource/mcp`.
 */
export function resourceMetadataUrl(resource: URL): string {
  const path = resource.pathname === '/' ? '' : resource.pathname;
  return `${resource.origin}/.well-known/oauth-protected-resource${path}`;
}
