import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile, type ResolvedConfig, resolveConfig } from '../config/index.js';

/** The config file `rampart` reads when `--config` is not given, if it exists. */
export const DEFAULT_CONFIG_FILE = 'rampart.yaml';

/** Loads `--config FILE`, else `./rampart.yaml` when present, else the defaults. */
export function loadCliConfig(file: string | undefined): ResolvedConfig {
  if (file) return loadConfigFile(file);
  if (existsSync(DEFAULT_CONFIG_FILE)) return loadConfigFile(DEFAULT_CONFIG_FILE);
  return resolveConfig({});
}

/** Where the key store of a configuration lives. */
export function keyStorePath(config: ResolvedConfig): string {
  return join(config.storage.dataDir, 'rampart.db');
}
