import { RampartError } from '../../core/errors.js';

/** Why a token was refused. Only logs see it; the client sees one fixed error for all of them. */
export type JwtRejectionReason =
  | 'too_large'
  | 'revoked'
  | 'malformed'
  | 'unknown_issuer'
  | 'alg_not_allowed'
  | 'crit_unsupported'
  | 'unknown_key'
  | 'ambiguous_key'
  | 'jwks_unavailable'
  | 'bad_signature'
  | 'bad_typ'
  | 'bad_issuer'
  | 'bad_audience'
  | 'missing_exp'
  | 'bad_exp'
  | 'expired'
  | 'not_yet_valid'
  | 'iat_in_future'
  | 'bad_subject'
  | 'bad_claims';

/**
 * The `cause` of a refused token: a reason code and, when jose refused it, jose's error code.
 * It deliberately keeps neither the token nor jose's error object (whose `payload` holds the
 * claims), so logging the cause cannot leak them.
 */
export class JwtRejection extends Error {
  override readonly name = 'JwtRejection';
  readonly reason: JwtRejectionReason;
  readonly detail: string | undefined;

  constructor(reason: JwtRejectionReason, detail?: string) {
    super(detail === undefined ? reason : `${reason} (${detail})`);
    this.reason = reason;
    this.detail = detail;
  }
}

/** The one error every refused token raises: `ERR_AUTH_INVALID_TOKEN`, reason in `cause`. */
export function invalidToken(reason: JwtRejectionReason, detail?: string): RampartError {
  return new RampartError('ERR_AUTH_INVALID_TOKEN', { cause: new JwtRejection(reason, detail) });
}

/** Raised by a key source that cannot produce keys (JWKS down, timed out, malformed, unusable). */
export class KeySetUnavailable extends Error {
  override readonly name = 'KeySetUnavailable';
}

const CLAIM_REASONS: Readonly<Record<string, JwtRejectionReason>> = Object.assign(Object.create(null), {
  typ: 'bad_typ',
  iss: 'bad_issuer',
  aud: 'bad_audience',
  nbf: 'not_yet_valid',
  iat: 'bad_claims',
});

/** Maps an error thrown by jose's `jwtVerify` (or a key source) to a rejection reason. */
export function reasonOf(error: unknown): JwtRejectionReason {
  if (error instanceof KeySetUnavailable) return 'jwks_unavailable';
  const { code, claim, reason } = (error ?? {}) as { code?: unknown; claim?: unknown; reason?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'exp') return reason === 'missing' ? 'missing_exp' : 'bad_exp';
      return typeof claim === 'string' && Object.hasOwn(CLAIM_REASONS, claim)
        ? (CLAIM_REASONS[claim] as JwtRejectionReason)
        : 'bad_claims';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'unknown_key';
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'ambiguous_key';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'alg_not_allowed';
    // Key sources turn their own failures into KeySetUnavailable, so the only unsupported thing
    // left is a header: an unknown `crit` extension (RFC 7515 §4.1.11).
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'crit_unsupported';
    default:
      return 'malformed';
  }
}

/** A short, token-free description of an error for {@link JwtRejection.detail}. */
export function detailOf(error: unknown): string | undefined {
  // Our own key-source messages are fixed texts; jose's may quote header values, so only its code.
  if (error instanceof KeySetUnavailable) return error.message;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : undefined;
}
