import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { listen } from '../adapters/node/listen.js';
import { type RampartConfigInput, readConfigFile, resolveConfig } from '../config/index.js';
import { createRampart } from '../core/create-rampart.js';
import { prepareDemo } from '../demo/start.js';
import type { MountOptions } from '../mount/options.js';
import type { Tool } from '../tools/index.js';
import { DEFAULT_CONFIG_FILE } from './context.js';
import { CliError } from './output.js';

export const SERVE_HELP = `Usage: rampart serve [options]

Starts the MCP endpoint.

Options:
  --config FILE     Configuration file (default ./rampart.yaml if present)
  --port N          Port (default 8787, or $PORT)
  --host H          Address to bind (default 127.0.0.1)
  --demo            Serve the demo tools on a seeded SQLite database (what npm start does)
  --tools MODULE    Serve what MODULE exports: \`tools\` (defineTool results) and/or \`mount\`
                    (an MCP SDK server factory with its access rules)
`;

/** `rampart serve` */
export async function serveCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      demo: { type: 'boolean', default: false },
      tools: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void process.stdout.write(SERVE_HELP);
  if (values.demo === Boolean(values.tools)) throw new CliError('choose one of --demo and --tools MODULE', 2);

  const file = values.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const raw: RampartConfigInput = file ? readConfigFile(file) : {};
  const portText = values.port ?? process.env.PORT;
  if (portText !== undefined) {
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65_535)
      throw new CliError(`invalid port "${portText}"`, 2);
    raw.server = { ...raw.server, port };
  }
  if (values.host) raw.server = { ...raw.server, host: values.host };
  // The demo runs its own authorization server unless the configuration says otherwise.
  if (values.demo && raw.oauth?.enabled === undefined) raw.oauth = { ...raw.oauth, enabled: true };
  const config = resolveConfig(raw);

  let tools: Tool[];
  let mount: MountOptions | undefined;
  let closeTools = async () => {};
  let minted: Awaited<ReturnType<typeof prepareDemo>>['mintedKeys'] = [];
  let passwords: Awaited<ReturnType<typeof prepareDemo>>['mintedPasswords'] = [];
  if (values.demo) {
    const demo = await prepareDemo(config);
    tools = demo.tools;
    minted = demo.mintedKeys;
    passwords = demo.mintedPasswords;
    closeTools = demo.close;
  } else {
    ({ tools, mount } = await loadTools(values.tools as string));
  }

  const rampart = await createRampart({ config, tools, ...(mount ? { mount } : {}) });
  const running = await listen(rampart, { handleSignals: true });
  running.server.on('close', () => void closeTools());
  const out = process.stdout;
  out.write(`Rampart MCP endpoint:          ${rampart.resourceUrl}\n`);
  out.write(`Protected resource metadata:   ${rampart.resourceMetadataUrl}\n`);
  if (config.oauth.enabled) {
    out.write(
      `OAuth authorization server:    ${new URL(rampart.resourceUrl).origin}/.well-known/oauth-authorization-server\n`,
    );
  }
  if (tools.length > 0) out.write(`Tools: ${tools.map((t) => t.name).join(', ')}\n`);
  if (mount) out.write(`Mounted SDK server, tools: ${Object.keys(mount.tools).join(', ')}\n`);
  if (minted.length > 0) {
    out.write('\nFirst start: API keys minted. They are shown once and never again; store them now.\n');
    for (const k of minted)
      out.write(`  ${k.label.padEnd(9)} (user ${k.user}, ${k.scopes}):\n    ${k.key}\n`);
    if (passwords.length > 0) {
      out.write("\nSign-in passwords for the authorization server's login page (shown once):\n");
      for (const p of passwords) out.write(`  ${p.user.padEnd(9)} ${p.password}\n`);
    }
    out.write('\nTry it:\n');
    out.write(
      `  curl -s ${rampart.resourceUrl} -H 'Authorization: Bearer <key>' -H 'Content-Type: application/json' \\\n` +
        `    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/list' \\\n` +
        `    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}'\n`,
    );
  }
}

async function loadTools(module: string): Promise<{ tools: Tool[]; mount: MountOptions | undefined }> {
  const loaded = (await import(pathToFileURL(resolve(module)).href)) as {
    tools?: unknown;
    mount?: unknown;
    default?: unknown;
  };
  const tools = loaded.tools ?? (loaded.mount ? [] : loaded.default);
  const mount = loaded.mount;
  const hasTools = Array.isArray(tools) && tools.length > 0;
  const hasMount =
    mount !== null && typeof mount === 'object' && typeof (mount as MountOptions).server === 'function';
  if (!hasTools && !hasMount) {
    throw new CliError(
      `${module} must export \`tools\` (a non-empty array of defineTool() results) or \`mount\` ({ server, tools })`,
      2,
    );
  }
  return { tools: hasTools ? (tools as Tool[]) : [], mount: hasMount ? (mount as MountOptions) : undefined };
}
