import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES, type RedactionRule } from './rules.js';

const R = '[REDACTED]';

function rule(id: string): RedactionRule {
  const found = BUILTIN_RULES.find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
}

/** One rule on its own, as the sanitizer runs it. */
function apply(r: RedactionRule, text: string): string {
  r.pattern.lastIndex = 0;
  return text.replace(r.pattern, r.replacement);
}

/** Every built-in rule in order, each on the previous one's output, as the sanitizer runs them. */
function applyAll(text: string): string {
  return BUILTIN_RULES.reduce((out, r) => apply(r, out), text);
}

/** The hints joined as the sanitizer joins them. */
const HINTS = new RegExp(
  BUILTIN_RULES.filter((r) => r.hint !== undefined)
    .map((r) => `(?:${r.hint})`)
    .join('|'),
  'i',
);

const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const JWS = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const JWE =
  'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji.XFBoMYUZodetZdvTiFvSkQ';
const JWE_DIR =
  'eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..48V1_ALb6US04U3b.5eym8TW_c8SuK0lt.XFBoMYUZodetZdvTiFvSkQ';

/** Per rule: [input, what the rule alone makes of it], and look-alikes it must leave as they are. */
const CASES: Record<string, { hit: [string, string][]; miss: string[] }> = {
  'private-key-tail': {
    hit: [
      [
        'MIIEpAIBAAKCAQEA3Tz2\nZ1BXuuRm\n-----END RSA PRIVATE KEY-----\nafter',
        `${R}-----END RSA PRIVATE KEY-----\nafter`,
      ],
      ['lQOYBF0secret\n-----END PGP PRIVATE KEY BLOCK-----', `${R}-----END PGP PRIVATE KEY BLOCK-----`],
      // Only the orphan tail: the whole key after it is private-key's.
      [
        'tail\n-----END PRIVATE KEY-----\n-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----',
        `${R}-----END PRIVATE KEY-----\n-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----`,
      ],
      [
        '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\nkeytail\n-----END EC PRIVATE KEY-----',
        `${R}-----END EC PRIVATE KEY-----`,
      ],
    ],
    miss: [
      '-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----',
      `key -----BEGIN PRIVATE KEY-----${R}-----END PRIVATE KEY-----`,
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc\n-----END PGP PRIVATE KEY BLOCK-----',
      'abc\n-----END PUBLIC KEY-----',
      'abc\n-----END CERTIFICATE-----',
    ],
  },
  'private-key': {
    hit: [
      [
        'key: -----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY----- end',
        `key: -----BEGIN RSA PRIVATE KEY-----${R}-----END RSA PRIVATE KEY----- end`,
      ],
      [
        '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----',
        `-----BEGIN OPENSSH PRIVATE KEY-----${R}-----END OPENSSH PRIVATE KEY-----`,
      ],
      [
        '-----BEGIN ENCRYPTED PRIVATE KEY-----\r\nMIIFHz\r\n-----END ENCRYPTED PRIVATE KEY-----',
        `-----BEGIN ENCRYPTED PRIVATE KEY-----${R}-----END ENCRYPTED PRIVATE KEY-----`,
      ],
      [
        '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES\n\nMIIE\n-----END RSA PRIVATE KEY-----',
        `-----BEGIN RSA PRIVATE KEY-----${R}-----END RSA PRIVATE KEY-----`,
      ],
      [
        '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0secret\n-----END PGP PRIVATE KEY BLOCK----- ok',
        `-----BEGIN PGP PRIVATE KEY BLOCK-----${R}-----END PGP PRIVATE KEY BLOCK----- ok`,
      ],
      // No END line (head -5, a cut, a key split across content items): the rest of the string goes.
      ['-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAK\nZ1BX', `-----BEGIN RSA PRIVATE KEY-----${R}`],
      [
        '-----BEGIN EC PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\nmore',
        `-----BEGIN EC PRIVATE KEY-----${R}`,
      ],
      [
        'a -----BEGIN EC PRIVATE KEY-----x-----END EC PRIVATE KEY----- b -----BEGIN PRIVATE KEY-----y-----END PRIVATE KEY----- c',
        `a -----BEGIN EC PRIVATE KEY-----${R}-----END EC PRIVATE KEY----- b -----BEGIN PRIVATE KEY-----${R}-----END PRIVATE KEY----- c`,
      ],
    ],
    miss: [
      '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----',
      '-----BEGIN CERTIFICATE-----\nabc',
      'BEGIN PRIVATE KEY abc',
      'the PRIVATE KEY----- line',
    ],
  },
  'aws-access-key': {
    hit: [
      ['id AKIAIOSFODNN7EXAMPLE ok', `id ${R} ok`],
      ['key_AKIAIOSFODNN7EXAMPLE', `key_${R}`],
      ['AKIAIOSFODNN7EXAMPLE_2', `${R}_2`],
      ['"ASIAY34FZKBOKMUTVV7A"', `"${R}"`],
    ],
    miss: ['AKIA-not-a-key', 'XAKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLEX', 'akiaiosfodnn7example'],
  },
  'aws-secret-key': {
    hit: [
      [`aws_secret_access_key = ${AWS_SECRET}`, `aws_secret_access_key = ${R}`],
      [`--aws-secret-access-key ${AWS_SECRET}`, `--aws-secret-access-key ${R}`],
      [`aws-secret-access-key: ${AWS_SECRET}`, `aws-secret-access-key: ${R}`],
      [`{"SecretAccessKey":"${AWS_SECRET}"}`, `{"SecretAccessKey":"${R}"}`],
      [`"AWS_SECRET":"${AWS_SECRET}"`, `"AWS_SECRET":"${R}"`],
      [`AWS Secret Access Key: ${AWS_SECRET}`, `AWS Secret Access Key: ${R}`],
      [`MY_AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`, `MY_AWS_SECRET_ACCESS_KEY=${R}`],
      [`mySecretAccessKey: '${AWS_SECRET}'`, `mySecretAccessKey: '${R}'`],
    ],
    miss: [
      'aws_region = eu-west-1',
      'aws_secret_access_key = short',
      'aws-secret-access-key is rotated daily',
      `aws_secret_access_key = ${AWS_SECRET.slice(0, 39)}!`,
    ],
  },
  'aws-secret-key-beside-id': {
    hit: [
      [`bob,,AKIAIOSFODNN7EXAMPLE,${AWS_SECRET},`, `bob,,AKIAIOSFODNN7EXAMPLE,${R},`],
      [`["ASIAIOSFODNN7EXAMPLE", "${AWS_SECRET}"]`, `["ASIAIOSFODNN7EXAMPLE", "${R}"]`],
      [`${AWS_SECRET}\tAKIAIOSFODNN7EXAMPLE`, `${R}\tAKIAIOSFODNN7EXAMPLE`],
      [`export CREDS="AKIAIOSFODNN7EXAMPLE ${AWS_SECRET}"`, `export CREDS="AKIAIOSFODNN7EXAMPLE ${R}"`],
    ],
    miss: [
      // A git commit id is one case only; so is a run in capitals.
      'AKIAIOSFODNN7EXAMPLE at 3f786850e387550fdab836ed7e6dc881de23001b',
      'AKIAIOSFODNN7EXAMPLE at 3F786850E387550FDAB836ED7E6DC881DE23001B',
      `AKIAIOSFODNN7EXAMPLE ${'-'.repeat(70)} ${AWS_SECRET}`,
      `${AWS_SECRET} alone`,
      `AKIAIOSFODNN7EXAMPLE ${AWS_SECRET}x`,
      `AKIAIOSFODNN7EXAMPLEX ${AWS_SECRET}`,
    ],
  },
  jwt: {
    hit: [
      ['token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2ln done', `token ${R} done`],
      [`Bearer ${JWS}`, `Bearer ${R}`],
      [`jwe ${JWE} end`, `jwe ${R} end`],
      [`"${JWE_DIR}"`, `"${R}"`],
    ],
    miss: [
      'eyJ.eyJ.x',
      'version 1.2.3',
      'eyJhbGciOiJIUzI1NiJ9 alone',
      `x${JWS}`,
      'eyJhbGciOiJIUzI1NiJ9.abc.defghijklm',
    ],
  },
  'bearer-token': {
    hit: [
      ['Authorization: Bearer abcdef0123456789abcdef', `Authorization: Bearer ${R}`],
      ['bearer abcdefghijklmnop==', `bearer ${R}`],
      ['Authorization: Bearer abc123xyz', `Authorization: Bearer ${R}`],
    ],
    miss: [
      'the bearer of bad news',
      'Bearer short',
      'Bearer authentication failed',
      'bearer 1234567',
      'bearer tokens rotated at 10:00',
    ],
  },
  'basic-auth': {
    hit: [
      ['Authorization: Basic YWRtaW46czNjcjN0UGFzc3dvcmQ=', `Authorization: Basic ${R}`],
      ['{"authorization":"basic dXNlcjpwYXNz"}', `{"authorization":"basic ${R}"}`],
      ["curl -H 'Proxy-Authorization: Basic dXNlcjpwYXNz' x", `curl -H 'Proxy-Authorization: Basic ${R}' x`],
      ["headers={'Authorization': 'Basic dXNlcjpwYXNz'}", `headers={'Authorization': 'Basic ${R}'}`],
    ],
    miss: [
      'basic dXNlcjpwYXNz',
      'the server uses basic authentication',
      'Authorization: Bearer abcdef0123456789',
      'authorization basic flow',
      'Authorization: Basic',
    ],
  },
  'rampart-api-key': {
    hit: [[`rmp_${'a'.repeat(43)}_abc123`, R]],
    miss: ['rmp_short'],
  },
  'stripe-key': {
    hit: [['sk_live_4eC39HqLyjWDarjtT1zdp7dc', R]],
    miss: ['sk_live_', 'task_list_items'],
  },
  'webhook-signing-secret': {
    hit: [
      ['whsec_5f8d6f5e4d3c2b1a0f9e8d7c6b5a4f3e', R],
      ['STRIPE_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', `STRIPE_WEBHOOK_SECRET=${R}`],
    ],
    miss: ['whsec_short', 'xwhsec_5f8d6f5e4d3c2b1a0f9e8d7c6b5a4f3e', 'whsec'],
  },
  'openai-style-key': {
    hit: [
      ['sk-proj-abcdefghijklmnopqrstuvwx', R],
      ['key=sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789', `key=${R}`],
    ],
    miss: ['sk-short', 'desk-lamp'],
  },
  'github-token': {
    hit: [
      [`ghp_${'A'.repeat(36)}`, R],
      [`github_pat_${'b'.repeat(30)}`, R],
    ],
    miss: ['ghp_short'],
  },
  'slack-token': {
    hit: [
      ['xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', R],
      ['SLACK_APP_TOKEN=xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef', `SLACK_APP_TOKEN=${R}`],
    ],
    miss: ['xox-nope', 'xapp-short', 'xappx-1234567890abc'],
  },
  'google-api-key': {
    hit: [[`AIza${'B'.repeat(35)}`, R]],
    miss: ['AIzaShort'],
  },
  'google-oauth-token': {
    hit: [
      ['ya29.a0AfH6SMBx7j3kW9qZ1X2Y3Z4_abcdefghijklmnop', R],
      ['{"access_token": "ya29.c.b0Aaekm1KjLz_9xYq-ZZZZZZZZZZZZ"}', `{"access_token": "${R}"}`],
    ],
    miss: ['ya29.short', 'ya29', 'xya29.a0AfH6SMBx7j3kW9qZ1X2Y3Z4_abcdefghijklmnop'],
  },
  'connection-string-password': {
    hit: [
      ['postgres://app:s3cr3t@db.internal:5432/prod', `postgres://app:${R}@db.internal:5432/prod`],
      ['redis://:hunter2@cache:6379', `redis://:${R}@cache:6379`],
      ['postgres://user:p@ss@host/db', `postgres://user:${R}@host/db`],
      ['postgres://user:pa/ss@host/db', `postgres://user:${R}@host/db`],
      ['redis://default:a:b:c@host:6379', `redis://default:${R}@host:6379`],
      ['mysql://root:se#cr?et@db/x', `mysql://root:${R}@db/x`],
      [
        'mongodb+srv://admin:hunter2@cluster0.abcde.mongodb.net/test',
        `mongodb+srv://admin:${R}@cluster0.abcde.mongodb.net/test`,
      ],
      ['postgres://u:12345@h/db', `postgres://u:${R}@h/db`],
      // Quotes end the run, so a URL in JSON text does not swallow its neighbours...
      ['{"a":"postgres://u:pw@h/db","b":"x@y"}', `{"a":"postgres://u:${R}@h/db","b":"x@y"}`],
      // ...unless the password holds one: then it runs to the first @, as before.
      ["postgres://u:pa'ss@h/db", `postgres://u:${R}@h/db`],
      ['DSN=x_postgres://u:pw@h', `DSN=x_postgres://u:${R}@h`],
    ],
    miss: [
      'https://example.com/a:b',
      'mailto:alice@example.com',
      'https://example.com:8080/users/alice@example.com',
      'http://localhost:3000/x?to=a@b.c',
      'see https://example.com and mail a@b.c',
    ],
  },
  'secret-assignment': {
    hit: [
      ['password=hunter2 user=bob', `password=${R} user=bob`],
      ['{"client_secret": "abc def"}', `{"client_secret": "${R}"}`],
      ['DB_PASSWORD: x9', `DB_PASSWORD: ${R}`],
      ['DB_PWD=hunter2', `DB_PWD=${R}`],
      ['{"refresh_token":"1//0gAbCdEfGh"}', `{"refresh_token":"${R}"}`],
      ['aws_session_token=FwoGZXIvYXdzEJr//////////wEaDOZ', `aws_session_token=${R}`],
      ['id_token: abc.def', `id_token: ${R}`],
      ['SESSION_TOKEN=abc', `SESSION_TOKEN=${R}`],
      ['client_secret=abc', `client_secret=${R}`],
      ['clientSecret: abc', `clientSecret: ${R}`],
      ['refreshToken = "abc"', `refreshToken = "${R}"`],
      ['token: 9f8e7d6c5b4a', `token: ${R}`],
      ['https://h/cb?token=abc&x=1', `https://h/cb?token=${R}&x=1`],
      ['{"password":"abc\\"def"}', `{"password":"${R}"}`],
      ["password='it\\'s'", `password='${R}'`],
      ['SECRET_KEY=django-insecure', `SECRET_KEY=${R}`],
      ['PGPASSWORD=hunter2', `PGPASSWORD=${R}`],
      ['dbPassword: x', `dbPassword: ${R}`],
      ['{"githubToken":"abc"}', `{"githubToken":"${R}"}`],
      ['a_b_c_d_e_f_g_h_i_password=x', `a_b_c_d_e_f_g_h_i_password=${R}`],
      [`${'v'.repeat(40)}_API_KEY=x`, `${'v'.repeat(40)}_API_KEY=${R}`],
      // Generated secrets may start with a bracket; only a lone one is a parser's error text.
      ['DB_PASSWORD=(Xk9#mQ2!vL7$pR4', `DB_PASSWORD=${R}`],
      ['password: {Zq7^Lm2@Rt8}', `password: ${R}`],
      ['token=<9f8a7b6c5d4e3f2a1b0c>', `token=${R}`],
      ['secret_key=)Hx3%nP0*wQ5', `secret_key=${R}`],
    ],
    miss: [
      'password reset link sent',
      'the secret garden',
      'pwd: /home/alice',
      '"max_tokens": 1000',
      'max_tokens: 1000',
      'total_tokens=12',
      'token_count=5',
      'tokenizer: cl100k',
      'passwords: 3',
      'password_hash: x',
      'tokens: 5',
      'SyntaxError: Unexpected token: }',
      'Unexpected token: ) at line 3',
      'expected token: ]',
      `password=${R}`,
    ],
  },
};

describe('each rule', () => {
  it('has cases for every built-in rule, and ids are unique', () => {
    expect(Object.keys(CASES).sort()).toEqual(BUILTIN_RULES.map((r) => r.id).sort());
    expect(new Set(BUILTIN_RULES.map((r) => r.id)).size).toBe(BUILTIN_RULES.length);
  });

  it('keeps the ids of the rules that existed before (configurations name them)', () => {
    const ids = BUILTIN_RULES.map((r) => r.id);
    for (const id of [
      'private-key',
      'aws-access-key',
      'aws-secret-key',
      'jwt',
      'bearer-token',
      'rampart-api-key',
      'stripe-key',
      'openai-style-key',
      'github-token',
      'slack-token',
      'google-api-key',
      'connection-string-password',
      'secret-assignment',
    ]) {
      expect(ids).toContain(id);
    }
  });

  for (const [id, { hit, miss }] of Object.entries(CASES)) {
    describe(id, () => {
      it.each(hit)('redacts %j', (input, expected) => {
        expect(apply(rule(id), input)).toBe(expected);
      });
      it.each(miss)('leaves %j alone', (input) => {
        expect(apply(rule(id), input)).toBe(input);
      });
    });
  }
});

describe('all rules together', () => {
  it('a private key split across two strings is redacted in both, tail first', () => {
    const head = applyAll('-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZ');
    const tail = applyAll('iAMfQyuvBjM\n-----END RSA PRIVATE KEY-----');
    expect(head).toBe(`-----BEGIN RSA PRIVATE KEY-----${R}`);
    expect(tail).toBe(`${R}-----END RSA PRIVATE KEY-----`);
  });

  it('is idempotent on keys: what private-key leaves is not taken for a tail', () => {
    for (const text of [
      'a -----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY----- b',
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\nx',
      'x\n-----END OPENSSH PRIVATE KEY-----\ny',
    ]) {
      const once = applyAll(text);
      expect(applyAll(once)).toBe(once);
    }
  });

  it('leaves no secret of an environment dump behind', () => {
    const secrets = [
      AWS_SECRET,
      'AKIAIOSFODNN7EXAMPLE',
      'YWRtaW46czNjcjN0UGFzc3dvcmQ',
      'hunter2',
      'p@ss',
      '0gAbCdEfGh',
      'ya29.a0AfH6SMBx7j3kW9qZ1X2Y3Z4',
      'whsec_5f8d6f5e4d3c2b1a0f9e8d7c',
      'xapp-1-A0123456789',
      JWE.slice(0, 40),
      'MIIEpAIBAAK',
    ];
    const dump = [
      `AWS_ACCESS_KEY_ID=key_AKIAIOSFODNN7EXAMPLE`,
      `--aws-secret-access-key ${AWS_SECRET}`,
      'Authorization: Basic YWRtaW46czNjcjN0UGFzc3dvcmQ=',
      'DATABASE_URL=postgres://app:p@ss@db/prod',
      'PGPASSWORD=hunter2',
      '{"refresh_token":"1//0gAbCdEfGh"}',
      'GOOGLE_TOKEN=ya29.a0AfH6SMBx7j3kW9qZ1X2Y3Z4_abcdefghijklmnop',
      'hook whsec_5f8d6f5e4d3c2b1a0f9e8d7c6b5a4f3e',
      'app xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef',
      `jwe ${JWE}`,
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAK',
    ].join('\n');
    const out = applyAll(dump);
    for (const secret of secrets) expect(out).not.toContain(secret);
  });
});

describe('hints', () => {
  // The sanitizer skips every rule for a string its hints are not in: a hint must be in every
  // text its rule matches, or that text would pass unredacted.
  const pieces = Object.values(CASES).flatMap(({ hit, miss }) => [...hit.map(([input]) => input), ...miss]);
  const text = fc
    .array(
      fc.oneof(
        fc.constantFrom(...pieces),
        fc.constantFrom(...pieces).map((p) => p.slice(0, Math.floor(p.length / 2))),
        fc.string({ unit: 'binary', maxLength: 12 }),
      ),
      { maxLength: 4 },
    )
    .map((parts) => parts.join(''));

  for (const r of BUILTIN_RULES) {
    it(`${r.id}: has a hint, and the hint is in everything the rule matches`, () => {
      expect(r.hint).toBeDefined();
      expect(r.pattern.global).toBe(true);
      const hint = new RegExp(r.hint as string, 'i');
      for (const [input] of CASES[r.id]?.hit ?? []) expect(hint.test(input)).toBe(true);
      fc.assert(
        fc.property(text, (t) => {
          r.pattern.lastIndex = 0;
          if (r.pattern.test(t)) expect(hint.test(t)).toBe(true);
        }),
        { numRuns: 500 },
      );
    });
  }

  it('the joined hints pass ordinary text by, so the rules do not run on it', () => {
    for (const clean of [
      'Build finished in 3.4 s with 0 errors; uploaded 42 files to the bucket.',
      '{"usage":{"input_units":12,"output_units":40},"model":"m-1","stop":"end_turn"}',
      'Authored by alice; the basic plan is in /srv/docs/plan.md (see section 2:3).',
    ]) {
      expect(HINTS.test(clean)).toBe(false);
    }
  });
});

describe('time linear in the input', () => {
  // Quadratic patterns take seconds on 100 KB; a linear one takes a few milliseconds. The limit
  // is generous for slow CI machines: it only has to tell those apart.
  const LIMIT_MS = 200;
  const SIZE = 100_000;
  const units = [
    'a-',
    'a_',
    'a+',
    'a:',
    'a.',
    'a ',
    'a=',
    'a@',
    'a/',
    '://',
    'a://',
    'a://:',
    'a://a:',
    'a:@',
    ':',
    '@',
    '"',
    "'",
    '\\',
    ' ',
    '\n',
    '-----BEGIN PRIVATE KEY-----',
    '-----BEGIN ',
    '-----BEGIN A ',
    'A ',
    '-----END PRIVATE KEY-----',
    '-----END ',
    'BEGIN PRIVATE KEY',
    'PRIVATE KEY-----',
    '-----BEGIN PGP PRIVATE KEY BLOCK-----',
    'eyJ',
    'eyJ.',
    'eyJ-',
    'eyJaaaaaaaa.',
    'eyJaaaaaaaa..',
    'bearer ',
    'bearer',
    'basic ',
    'authorization: basic ',
    'authorization:',
    'sk-',
    'sk-a',
    'sk_live_',
    'rmp_',
    'rmp_-',
    'ghp_',
    'github_pat_',
    'xoxb-',
    'xapp-',
    'AIza',
    'AKIA',
    'AKIAIOSFODNN7EXAMPLE ',
    'AKIAIOSFODNN7EXAMPLE,aB',
    `${'aB'.repeat(20)} `,
    `${'aB'.repeat(20)},AKIAIOSFODNN7EXAMPL`,
    'ya29.',
    'ya29.-',
    'whsec_',
    'password',
    'password=',
    'password="',
    "password='",
    'password=\\',
    'token:',
    'token:"',
    'a_token ',
    'db_pwd ',
    'aws_secret ',
    'aws_secret=',
    'aws-secret-access-key ',
    'aws secret ',
  ];
  const suffixes = ['', 'pwd', 'password', ': http://x', '!', '-!', '@', '-----END PRIVATE KEY-----'];
  const inputs: [string, string][] = [];
  for (const unit of units) {
    for (const suffix of suffixes) {
      const times = Math.ceil(SIZE / unit.length);
      inputs.push([
        `${JSON.stringify(unit)} x ${times} + ${JSON.stringify(suffix)}`,
        unit.repeat(times) + suffix,
      ]);
    }
  }
  // The reviewer's measurements, at their sizes.
  inputs.push(["'a-' to 100 KB + 'pwd'", `${'a-'.repeat(50_000)}pwd`]);
  inputs.push(["'a+' to 80 KB + ': http://x'", `${'a+'.repeat(40_000)}: http://x`]);
  inputs.push([
    'BEGIN PRIVATE KEY to 1 MB, no END',
    '-----BEGIN PRIVATE KEY-----'.repeat(Math.floor(1_048_576 / 27)),
  ]);
  inputs.push(['END PRIVATE KEY to 1 MB', '-----END PRIVATE KEY-----'.repeat(Math.floor(1_048_576 / 25))]);

  function slowest(run: (input: string) => void): { ms: number; name: string } {
    let worst = { ms: 0, name: '' };
    for (const [name, input] of inputs) {
      const t0 = performance.now();
      run(input);
      const ms = performance.now() - t0;
      if (ms > worst.ms) worst = { ms, name };
    }
    return worst;
  }

  for (const r of BUILTIN_RULES) {
    it(`${r.id} stays under ${LIMIT_MS} ms on every adversarial input`, () => {
      const worst = slowest((input) => apply(r, input));
      expect(worst.ms, `slowest: ${worst.name}`).toBeLessThan(LIMIT_MS);
    });
  }

  it(`the joined hints stay under ${LIMIT_MS} ms on every adversarial input`, () => {
    const worst = slowest((input) => HINTS.test(input));
    expect(worst.ms, `slowest: ${worst.name}`).toBeLessThan(LIMIT_MS);
  });
});
