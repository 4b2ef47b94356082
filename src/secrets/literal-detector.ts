/**
 * Finds values in a parsed configuration that look like literal secrets, for `rampart config check`.
 * Secrets belong in a secret manager and reach Rampart as `secret://` references.
 */

/** One suspicious value: where it is and why, never the value itself. */
export interface LiteralSecretFinding {
  readonly path: string;
  readonly reason: string;
}

const SECRET_NAME = /(secret|password|passwd|token|api[-_]?key|private[-_]?key|credential)/i;
const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a PEM private key'],
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/, 'an AWS access key id'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]+@/i, 'a URL with a password'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, 'a JWT'],
  [/\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}/, 'an API secret key'],
  [/\brmp_[A-Za-z0-9_-]{40,}/, 'a Rampart API key'],
  [/\b(ghp|gho|ghs|github_pat|xox[abprs])_[A-Za-z0-9_-]{16,}/, 'an access token'],
];

/** Walks `value` and reports literal secrets; `secret://` references are fine. */
export function findLiteralSecrets(value: unknown, path = ''): LiteralSecretFinding[] {
  const findings: LiteralSecretFinding[] = [];
  walk(value, path, findings);
  return findings;
}

function walk(value: unknown, path: string, out: LiteralSecretFinding[]): void {
  if (typeof value === 'string') {
    if (value.startsWith('secret://')) return;
    for (const [pattern, what] of PATTERNS) {
      if (pattern.test(value)) {
        out.push({ path, reason: `looks like ${what}; use a secret:// reference` });
        return;
      }
    }
    const key = path.slice(path.lastIndexOf('.') + 1);
    if (SECRET_NAME.test(key) && !/(file|path|url|claim|header)$/i.test(key) && value.length > 0) {
      out.push({ path, reason: `"${key}" holds a literal value; use a secret:// reference` });
    }
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], `${path}[${i}]`, out);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, out);
  }
}
