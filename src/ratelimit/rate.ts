/** A limit as `count` requests per `periodMs`, parsed from text such as `100/min`. */
export interface Rate {
  readonly count: number;
  readonly periodMs: number;
  /** The text it was parsed from, for messages and logs. */
  readonly text: string;
}

const UNITS: Readonly<Record<string, number>> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};

/** `N/unit` or `N/<k>unit`: `100/min`, `5/hour`, `20/10s`. */
const RATE = /^(\d{1,9})\s*\/\s*(\d{1,6})?\s*([a-z]+)$/;

/**
 * Parses a rate such as `100/min`, `5/hour` or `20/10s` (units: s, sec, second, m, min, minute,
 * h, hour, d, day).
 *
 * @returns the rate, or `undefined` when the text is not one (the config schema names the path).
 */
export function parseRate(text: string): Rate | undefined {
  const match = RATE.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const [, countText, multiplierText, unit] = match as unknown as [
    string,
    string,
    string | undefined,
    string,
  ];
  const unitMs = Object.hasOwn(UNITS, unit) ? UNITS[unit] : undefined;
  const count = Number(countText);
  const multiplier = multiplierText === undefined ? 1 : Number(multiplierText);
  if (unitMs === undefined || count < 1 || multiplier < 1) return undefined;
  return { count, periodMs: unitMs * multiplier, text };
}
