const UNITS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses `30d`, `24h`, `15m`, `90s` or `2w` into milliseconds.
 *
 * @throws TypeError for anything else (including zero and values over ten years).
 */
export function parseDuration(value: string): number {
  const match = /^(\d{1,6})([smhdw])$/.exec(value.trim());
  if (!match) throw new TypeError(`"${value}" is not a duration such as 30d, 24h, 15m or 90s`);
  const ms = Number(match[1]) * (UNITS[match[2] as string] as number);
  if (ms <= 0 || ms > 10 * 365 * 86_400_000) throw new TypeError(`"${value}" is out of range`);
  return ms;
}
