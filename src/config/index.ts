export { loadConfigFile, readConfigFile, resolveConfig } from './load.js';
export { configSchema, type RampartConfigInput, type ResolvedConfig, secretRef } from './schema.js';
