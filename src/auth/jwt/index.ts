export {
  createJwtVerifier,
  type JwtIssuerOptions,
  type JwtVerifier,
  type JwtVerifierOptions,
} from './verifier.js';
