/**
 * Durations in the policy are written `<n>d`, `<n>h`, `<n>m` or `<n>s`. These helpers
 * parse them; the schema has already checked the form.
 */

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
export type DurationUnit = keyof typeof UNIT_SECONDS;

const DURATION = /^([1-9][0-9]{0,5})([smhd])$/;

/** Parses `30d`, `72h`, `15m`, `30s`; undefined when the text is not a duration. */
export function parseDuration(text: string): { value: number; unit: DurationUnit; seconds: number } | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = m[2] as DurationUnit;
  return { value, unit, seconds: value * UNIT_SECONDS[unit] };
}

function seconds(text: string): number {
  const d = parseDuration(text);
  if (!d) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return d.seconds;
}

export const durationSeconds = seconds;
export const durationHours = (text: string): number => seconds(text) / 3600;
export const durationDays = (text: string): number => seconds(text) / 86_400;
/** Whole days, rounded up: S3 lifecycle rules count in days. */
export const durationDaysCeil = (text: string): number => Math.ceil(seconds(text) / 86_400);

/** Regex source for a duration with the allowed units, used by the schema and the JSON Schema. */
export function durationPattern(units: readonly DurationUnit[]): RegExp {
  return new RegExp(`^[1-9][0-9]{0,5}[${units.join('')}]$`);
}
