/** One redaction rule: data, so each can be listed, tested and turned off on its own. */
export interface RedactionRule {
  /** A stable id, e.g. `aws-access-key`. */
  readonly id: string;
  readonly description: string;
  /** Global regex; every match is replaced. */
  readonly pattern: RegExp;
  /** Replacement text (`$1` and the like refer to the pattern's groups). */
  readonly replacement: string;
  /**
   * Text the pattern cannot match without (its source, joined with the other rules' hints into one
   * case-insensitive regex): a string none of them is in skips the rules. Without a hint the rule
   * always runs. A test holds every built-in hint to its pattern.
   */
  readonly hint?: string | undefined;
}

const R = '[REDACTED]';

/**
 * The built-in rules: credentials that tools echo by accident (from environment dumps, error
 * texts, configuration files, database rows). Each names what it finds, so a report can say which.
 */
export const BUILTIN_RULES: readonly RedactionRule[] = [
  {
    id: 'private-key',
    description: 'PEM private keys (RSA, EC, OpenSSH, PKCS#8, encrypted)',
    pattern: /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g,
    replacement: `-----BEGIN $1PRIVATE KEY-----${R}-----END $1PRIVATE KEY-----`,
    hint: 'PRIVATE KEY-----',
  },
  {
    id: 'aws-access-key',
    description: 'AWS access key ids (AKIA…, ASIA…)',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/g,
    replacement: R,
    hint: 'A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)',
  },
  {
    id: 'aws-secret-key',
    description: 'AWS secret access keys next to their usual names',
    pattern:
      /\b(aws_?secret_?access_?key|aws_?secret(?:_?key)?|secretaccesskey)(["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/gi,
    replacement: `$1$2${R}`,
    hint: 'secret',
  },
  {
    id: 'jwt',
    description: 'JSON Web Tokens (three base64url parts, the first two JSON objects)',
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    replacement: R,
    hint: 'eyJ',
  },
  {
    id: 'bearer-token',
    description: 'Bearer credentials in Authorization-like text',
    pattern: /\b(bearer)\s+[A-Za-z0-9\-._~+/]{16,}=*/gi,
    replacement: `$1 ${R}`,
    hint: 'bearer',
  },
  {
    id: 'rampart-api-key',
    description: "Rampart's own API keys (rmp_…)",
    pattern: /\brmp_[A-Za-z0-9_-]{43}_[A-Za-z0-9]{6}\b/g,
    replacement: R,
    hint: 'rmp_',
  },
  {
    id: 'stripe-key',
    description: 'Stripe-style keys: sk_live_…, rk_test_…',
    pattern: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/g,
    replacement: R,
    hint: 'k_(?:live|test)_',
  },
  {
    id: 'openai-style-key',
    description: 'sk-… keys (OpenAI, Anthropic and others)',
    pattern: /\bsk-(?:[A-Za-z0-9]+-)?[A-Za-z0-9_-]{20,}\b/g,
    replacement: R,
    hint: 'sk-',
  },
  {
    id: 'github-token',
    description: 'GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b/g,
    replacement: R,
    hint: 'gh[pousr]_|github_pat_',
  },
  {
    id: 'slack-token',
    description: 'Slack tokens (xoxb-, xoxp-, …)',
    pattern: /\bxox[abeoprs]-[A-Za-z0-9-]{10,}\b/g,
    replacement: R,
    hint: 'xox[abeoprs]-',
  },
  {
    id: 'google-api-key',
    description: 'Google API keys (AIza…)',
    pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g,
    replacement: R,
    hint: 'AIza',
  },
  {
    id: 'connection-string-password',
    description: 'Passwords in URLs and connection strings (scheme://user:password@host)',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s@/]+)@/gi,
    replacement: `$1:${R}@`,
    hint: '://',
  },
  {
    id: 'secret-assignment',
    description: 'password=…, api_key: …, client_secret=… and the like in text',
    pattern:
      // A bare `pwd` is the shell's working directory; only a prefixed one (DB_PWD) is a password.
      /\b((?:[a-z0-9]+[_-])*(?:password|passwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?key)|(?:[a-z0-9]+[_-])+pwd)(["']?\s*[:=]\s*)(["']?)(?:(?<=")[^"\n]*"|(?<=')[^'\n]*'|[^\s,;&'"]+)/gi,
    // Quotes around the value stay, so JSON and YAML keep their shape.
    replacement: `$1$2$3${R}$3`,
    hint: 'passw(?:or)?d|secret|api[_-]?key|access[_-]?token|auth[_-]?token|private[_-]?key|[_-]pwd',
  },
];
