import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import type { HeaderReader } from '../core/exchange.js';
import type { JsonRpcMessage } from '../protocol/envelope.js';
import { compileMountRules, type MountOptions, type MountRules } from './options.js';
import { MountedServerFault, readReply, type UpstreamReply } from './reply.js';

/** One request, already authenticated, parsed and classified by the boundary. */
export interface ForwardRequest {
  readonly message: JsonRpcMessage;
  readonly headers: HeaderReader;
  readonly principal: Principal;
  readonly signal: AbortSignal;
}

/** An SDK server mounted behind the boundary. */
export interface MountedServer {
  readonly rules: MountRules;
  /** Whether mounted tools' error texts may reach the client (`MountOptions.exposeToolErrors`). */
  readonly exposeToolErrors: boolean;
  /** Logs the text of a tool error that the client did not see. */
  reportHiddenError(tool: string, requestId: string, text: string): void;
  /** Hands one authorized request to the SDK server and returns its JSON-RPC answer. */
  forward(request: ForwardRequest): Promise<UpstreamReply>;
  close(): Promise<void>;
}

/** What {@link createSdkMount} needs from the boundary. */
export interface SdkMountContext {
  readonly knownScopes: ReadonlySet<string>;
  /** The scope the default read rules ask for. */
  readonly readScope: string;
  /** The canonical resource URI; forwarded requests are addressed to it. */
  readonly resourceUrl: string;
  readonly resourceMetadataUrl: string;
  readonly logger: Logger;
}

/**
 * Mounts a user's SDK server: Rampart keeps the boundary and authorization, the SDK's
 * `createMcpHandler` serves the request. Loaded only when a mount is configured.
 */
export async function createSdkMount(options: MountOptions, ctx: SdkMountContext): Promise<MountedServer> {
  const rules = compileMountRules(options, ctx.knownScopes, ctx.readScope);
  const timeoutMs = options.timeoutMs ?? 60_000;
  // setTimeout fires at once past 2^31 - 1 ms.
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 2_147_483_647)
    throw new TypeError('mount.timeoutMs must be an integer from 1 to 2147483647');
  const { createMcpHandler } = await import('@modelcontextprotocol/server');
  const handler: McpHttpHandler = createMcpHandler(options.server, {
    legacy: 'stateless',
    // JSON unless the tool emits notifications first; then SSE, of which readReply keeps the result
    // (the boundary answers with one JSON body: mid-call notifications are not relayed).
    responseMode: 'auto',
    keepAliveMs: 0,
    onerror: (error) => ctx.logger.warn({ err: error }, 'mounted server reported an error'),
  });
  const resource = new URL(ctx.resourceUrl);

  return {
    rules,
    exposeToolErrors: options.exposeToolErrors === true,
    reportHiddenError(tool, requestId, text) {
      ctx.logger.warn({ reqId: requestId, tool, toolError: text.slice(0, 2000) }, 'mounted tool failed');
    },
    async forward({ message, headers, principal, signal }) {
      const body = { jsonrpc: '2.0', id: message.id, method: message.method, params: message.params };
      // The deadline also aborts the request, so an SDK handler that watches its signal stops.
      const deadline = new AbortController();
      const request = new Request(ctx.resourceUrl, {
        method: 'POST',
        headers: forwardedHeaders(headers),
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, deadline.signal]),
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          deadline.abort();
          reject(
            new MountedServerFault(`mounted server gave no answer to ${message.method} in ${timeoutMs} ms`),
          );
        }, timeoutMs);
      });
      try {
        return await Promise.race([
          (async () => {
            const response = await handler.fetch(request, {
              authInfo: authInfoOf(principal, resource, ctx.resourceMetadataUrl),
              parsedBody: body,
            });
            return readReply(response, message.id);
          })(),
          late,
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => handler.close(),
  };
}

/**
 * The headers the SDK server sees: media types and the MCP protocol headers the boundary has
 * already checked against the body. Never the credential, cookies or the session id: the SDK
 * server is stateless behind Rampart and learns who is calling from `authInfo` only.
 */
function forwardedHeaders(incoming: HeaderReader): Headers {
  const out = new Headers({
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  });
  incoming.forEach((value, name) => {
    if (name.startsWith('mcp-') && name !== 'mcp-session-id') out.set(name, value);
  });
  return out;
}

/**
 * The principal in the SDK's `AuthInfo` shape. `token` is empty on purpose: the mounted server
 * must not replay the caller's credential to anything else (MCP security best practices, "token
 * passthrough"); who is calling is in `extra`.
 */
function authInfoOf(principal: Principal, resource: URL, resourceMetadataUrl: string): AuthInfo {
  return {
    token: '',
    clientId: principal.clientId ?? principal.subject,
    scopes: [...principal.scopes],
    ...(principal.expiresAt !== undefined ? { expiresAt: Math.floor(principal.expiresAt / 1000) } : {}),
    resource,
    resourceMetadataUrl,
    extra: {
      subject: principal.subject,
      issuer: principal.issuer,
      authMethod: principal.authMethod,
      roles: [...principal.roles],
      ...(principal.keyId !== undefined ? { keyId: principal.keyId } : {}),
    },
  };
}
