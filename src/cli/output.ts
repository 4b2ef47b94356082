/** A failure the CLI reports as one line on stderr with exit code `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * Prints rows as an aligned table, one line per row. Cells are shown through {@link escapeCell}, so
 * a value (a tool name, a user) can neither start a row of its own nor send the terminal a sequence.
 */
export function printTable(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): void {
  const cells = rows.map((row) => columns.map((c) => formatCell(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] as string).length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n`);
  for (const row of cells) process.stdout.write(`${line(row)}\n`);
}

/** A table cell: `-` for nothing, arrays space-separated, control characters escaped. */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (Array.isArray(value)) return escapeCell(value.join(' '));
  return escapeCell(String(value));
}

// C0 controls, DEL, C1 controls (0x9b is a one-byte CSI on some terminals), the line and paragraph
// separators, and the bidirectional overrides that can make a row read differently than it is.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it escapes
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Shows the characters of `text` that a terminal would act on as visible escapes: `\n`, `\r`,
 * `\t`, `\xHH` for the other C0 and C1 controls and DEL (ESC is `\x1b`), `\uHHHH` for U+2028,
 * U+2029 and bidirectional controls. Anything else is left as it is.
 */
export function escapeCell(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return SHORT[c] ?? (code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`);
  });
}

const hex = (code: number, digits: number) => code.toString(16).padStart(digits, '0');

/** Prints a value as JSON (for `--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
