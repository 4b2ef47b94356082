export type { JwtIssuerOptions, JwtVerifierOptions } from './options.js';
export { JwtRejection, type JwtRejectionReason } from './rejection.js';
export { createJwtVerifier, type JwtVerifier } from './verifier.js';
