import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { Secret } from './secret.js';

/** Resolves the part after `secret://<scheme>/` to a value, or throws. */
export interface SecretSource {
  readonly scheme: string;
  get(name: string): Promise<string>;
}

/** `secret://env/NAME`: an environment variable. */
export function envSecretSource(env: NodeJS.ProcessEnv = process.env): SecretSource {
  return {
    scheme: 'env',
    async get(name) {
      const value = env[name];
      if (value === undefined || value === '') throw new Error(`environment variable ${name} is not set`);
      return value;
    },
  };
}

/** `secret://file/PATH`: a file's content without its trailing newline (Docker and Kubernetes secrets). */
export function fileSecretSource(baseDir: string = process.cwd()): SecretSource {
  return {
    scheme: 'file',
    async get(name) {
      const content = await readFile(resolve(baseDir, name), 'utf8');
      return content.replace(/\r?\n$/, '');
    },
  };
}

/** The sources every `secret://` setting is resolved through: environment and files. */
export function defaultSecretSources(): readonly SecretSource[] {
  return [envSecretSource(), fileSecretSource()];
}

const REF = /^secret:\/\/([a-z][a-z0-9-]*)\/(.+)$/;

/**
 * Resolves a `secret://scheme/name` reference through the matching source.
 *
 * @throws ConfigError naming `path` when the reference is malformed, its scheme unknown or the
 *   source fails; the message never contains the secret.
 */
export async function resolveSecret(
  ref: string,
  sources: readonly SecretSource[],
  path = '',
): Promise<Secret> {
  const match = REF.exec(ref);
  if (!match) throw new ConfigError(path, 'is not a secret:// reference');
  const [, scheme, name] = match as unknown as [string, string, string];
  const source = sources.find((s) => s.scheme === scheme);
  if (!source) throw new ConfigError(path, `unknown secret source "${scheme}"`);
  try {
    return new Secret(await source.get(name), ref);
  } catch (cause) {
    throw new ConfigError(path, `could not read ${ref}`, { cause });
  }
}
