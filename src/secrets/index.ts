export { findLiteralSecrets, type LiteralSecretFinding } from './literal-detector.js';
export { Secret } from './secret.js';
export {
  defaultSecretSources,
  envSecretSource,
  fileSecretSource,
  resolveSecret,
  type SecretSource,
} from './sources.js';
