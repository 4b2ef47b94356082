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

/** An AWS access key id (AKIA…, ASIA…), not inside a longer run of letters and digits. */
const AWS_KEY_ID = String.raw`(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}(?![A-Za-z0-9])`;
const AWS_KEY_ID_HINT = 'A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)';
/** A 40-character base64 run in both cases (an AWS secret key; a hex digest has one case only). */
const BARE_AWS_SECRET = String.raw`(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[a-z])(?=[A-Za-z0-9/+]{0,39}[A-Z])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`;

/**
 * The built-in rules: credentials that tools echo by accident (from environment dumps, error
 * texts, configuration files, database rows). Each names what it finds, so a report can say which.
 * They run in this order, each on the previous one's output.
 *
 * Every pattern runs in time linear in its input, whatever the input: a match starts only at a
 * literal (a name, a prefix such as `sk-`) or where a run of its characters starts (a lookbehind,
 * never a repeated prefix), what follows is bounded or read once, and nothing is scanned to the
 * end of the string from more than one start. `rules.test.ts` holds each rule to that with
 * adversarial strings.
 */
export const BUILTIN_RULES: readonly RedactionRule[] = [
  {
    // Before `private-key`: its replacement keeps an END line, which must not look like a tail.
    id: 'private-key-tail',
    description:
      'The end of a PEM or PGP private key whose BEGIN line is not in the same string (a cut or split key)',
    pattern:
      /^(?:(?!-----BEGIN (?:[A-Z0-9]{1,16} ){0,4}PRIVATE KEY)[\s\S])*?-----END ((?:[A-Z0-9]{1,16} ){0,4})PRIVATE KEY( BLOCK)?-----/g,
    replacement: `${R}-----END $1PRIVATE KEY$2-----`,
    hint: 'PRIVATE KEY(?: BLOCK)?-----',
  },
  {
    id: 'private-key',
    description:
      'PEM and PGP private keys (RSA, EC, OpenSSH, PKCS#8, encrypted), from BEGIN to END, or to the end of the string when the END line is missing',
    pattern:
      /-----BEGIN ((?:[A-Z0-9]{1,16} ){0,4})PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:(-----END \1PRIVATE KEY\2-----)|$)/g,
    replacement: `-----BEGIN $1PRIVATE KEY$2-----${R}$3`,
    hint: 'PRIVATE KEY(?: BLOCK)?-----',
  },
  {
    // Before `aws-access-key`, which takes the id away. A secret with no name beside it (a
    // credentials CSV row, a positional dump) is known by the id next to it; mixed case tells it
    // from a 40-digit hex digest (a git commit id). The gap is short so each id costs bounded work.
    id: 'aws-secret-key-beside-id',
    description:
      'AWS secret access keys with no name, within 64 characters after or before an AWS access key id (a credentials CSV row)',
    pattern: new RegExp(
      String.raw`(${AWS_KEY_ID}[\s\S]{1,64}?)${BARE_AWS_SECRET}|${BARE_AWS_SECRET}(?=[\s\S]{1,64}?${AWS_KEY_ID})`,
      'g',
    ),
    replacement: `$1${R}`,
    hint: AWS_KEY_ID_HINT,
  },
  {
    id: 'aws-access-key',
    description: 'AWS access key ids (AKIA…, ASIA…), also right after an underscore',
    pattern: new RegExp(AWS_KEY_ID, 'g'),
    replacement: R,
    hint: AWS_KEY_ID_HINT,
  },
  {
    id: 'aws-secret-key',
    description:
      'AWS secret access keys after their usual names (snake, kebab, camel or spaced; `=`, `:` or a space between)',
    pattern:
      /(aws[\s_-]?secret[\s_-]?access[\s_-]?key|aws[\s_-]?secret(?:[\s_-]?key)?|secret[\s_-]?access[\s_-]?key)(["']?\s{0,16}[:=]\s{0,16}["']?|["']?\s{1,16}["']?)[A-Za-z0-9/+=]{40}/gi,
    replacement: `$1$2${R}`,
    hint: 'secret',
  },
  {
    id: 'jwt',
    description:
      'JSON Web Tokens in compact form: JWS (three base64url parts, the first two JSON) and JWE (five parts, the first JSON)',
    // JWE first: a JWE's encrypted key might start like a JSON part and leave the last two parts behind.
    pattern:
      /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.(?:[A-Za-z0-9_-]*\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})/g,
    replacement: R,
    hint: 'eyJ',
  },
  {
    id: 'bearer-token',
    description: 'Bearer credentials in Authorization-like text',
    // 16 characters and more, or 8 to 15 with a digit: the words after "bearer" in prose have none.
    pattern:
      /\b(bearer)\s+(?:[A-Za-z0-9\-._~+/]{16,}|(?=[A-Za-z0-9\-._~+/]{0,14}[0-9])[A-Za-z0-9\-._~+/]{8,15}(?![A-Za-z0-9\-._~+/]))=*/gi,
    replacement: `$1 ${R}`,
    hint: 'bearer',
  },
  {
    id: 'basic-auth',
    description: 'Basic credentials in an Authorization (or Proxy-Authorization) header or field',
    pattern:
      /(?<![a-z0-9])(authorization["']?\s{0,16}[:=]\s{0,16}["']?\s{0,16}basic\s{1,16})[A-Za-z0-9+/]{4,}={0,2}/gi,
    replacement: `$1${R}`,
    hint: 'authorization',
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
    id: 'webhook-signing-secret',
    description: 'Webhook signing secrets (whsec_…: Stripe, Svix and others)',
    pattern: /(?<![A-Za-z0-9])whsec_[A-Za-z0-9+/=]{24,}/g,
    replacement: R,
    hint: 'whsec_',
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
    hint: 'g(?:h[pousr]|ithub_pat)_',
  },
  {
    id: 'slack-token',
    description: 'Slack tokens (xoxb-, xoxp-, … and xapp- app-level tokens)',
    pattern: /\b(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{10,}\b/g,
    replacement: R,
    hint: 'x(?:ox[abeoprs]|app)-',
  },
  {
    id: 'google-api-key',
    description: 'Google API keys (AIza…)',
    pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g,
    replacement: R,
    hint: 'AIza',
  },
  {
    id: 'google-oauth-token',
    description: 'Google OAuth access tokens (ya29.…)',
    pattern: /(?<![A-Za-z0-9._-])ya29\.[A-Za-z0-9._-]{20,}/g,
    replacement: R,
    hint: 'ya29\\.',
  },
  {
    id: 'connection-string-password',
    description:
      'Passwords in URLs and connection strings (scheme://user:password@host), up to the last @ so a password may hold @ and /',
    // The password runs to the last @ in the run of characters after the colon (over-redacting a
    // host when a later @ follows, say in a path); quotes and angle brackets end the run, so a URL
    // inside JSON or markup does not swallow its neighbours, unless the password holds one. A
    // port followed by a path (host:8080/…@…) is not a password. The scheme starts where a run of
    // scheme characters starts, so each run is read once, however long.
    pattern:
      /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s:/@]{0,128}):(?!\d{1,5}[/?#])(?:[^\s"'`<>]{1,256}|[^\s@/]{1,256})@/gi,
    replacement: `$1:${R}@`,
    hint: '://',
  },
  {
    id: 'secret-assignment',
    description:
      'password=…, api_key: …, client_secret=…, refresh_token: …, token=…, DB_PWD=… and the like in text',
    pattern:
      // The name may end a longer one (DB_PASSWORD, PGPASSWORD, clientSecret, aws_session_token):
      // the match starts at the name, and the prefix stays as it is. A bare `pwd` is the shell's
      // working directory; only a prefixed one (DB_PWD) is a password. A bare `token` counts too,
      // `max_tokens` does not. Names are grouped by first letter and the lookbehind comes after
      // the `p`: tried at every position, that is four times cheaper than a flat list. An
      // unquoted value is not a lone bracket ("Unexpected token: }" is a parser's error), but may
      // start with one: generated passwords do.
      /(api[_-]?key|p(?:assw(?:or)?d|rivate[_-]?key|(?<=[a-z0-9][_-]p)wd)|secret(?:[_-]?key)?|token)(["']?\s*[:=]\s*)(["']?)(?:(?<=")(?:[^"\\\n]|\\.)*"|(?<=')(?:[^'\\\n]|\\.)*'|(?![(){}[\]<>](?:[\s,;&'"]|$))[^\s,;&'"]+)/gi,
    // Quotes around the value stay, so JSON and YAML keep their shape.
    replacement: `$1$2$3${R}$3`,
    hint: 'api[_-]?key|p(?:assw(?:or)?d|rivate[_-]?key)|secret|token|[_-]pwd',
  },
];
