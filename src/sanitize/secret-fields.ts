import { rememberedTest } from '../core/remembered.js';

/**
 * Field names whose string values are credentials, compared lowercased without `-`, `_`, `.` and
 * spaces: `AWS_SECRET_ACCESS_KEY`, `password`, `client-secret`, `db.password`, `refreshToken`.
 *
 * Narrower than the audit trail's argument names on purpose: output is data a caller asked for,
 * and its structured content may have to match the tool's output schema, so a page token, a token
 * count, a session id, an `authorization: "approved"` or a `pin` must come through; only names
 * that can only hold a credential are emptied.
 */
const SECRET_FIELD =
  /(?:password|passwd|passphrase|secret|secretkey|secretaccesskey|privatekey|apikey|accesstoken|refreshtoken|idtoken|authtoken|sessiontoken|bearertoken)$|^pwd$/;

/** Whether a string under this field name is a credential and is replaced whatever it looks like. */
export const isSecretField: (name: string) => boolean = rememberedTest((name) =>
  SECRET_FIELD.test(name.toLowerCase().replace(/[-_.\s]/g, '')),
);
