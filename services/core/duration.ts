// ISO-8601 durations (the contract's `Duration` scalar): "PT30M", "PT2H", "P1D", "P1DT12H", "PT0.5S".
// Years and months are refused: their length is not fixed, and a bake time must be exact.

const PATTERN =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const MAX_WAIT_MS = 365 * DAY;

/** Milliseconds in an ISO-8601 duration, or null when the text is not one we accept. */
export function parseDuration(text: string): number | null {
  const match = PATTERN.exec(text);
  if (!match || text === "P" || text.endsWith("T")) return null;
  const [, weeks, days, hours, minutes, seconds] = match;
  const part = (value: string | undefined, unit: number) => (value === undefined ? 0 : Number(value) * unit);
  return Math.round(
    part(weeks, 7 * DAY) + part(days, DAY) + part(hours, HOUR) + part(minutes, MINUTE) + part(seconds, SECOND),
  );
}

/** Canonical ISO-8601 text for a number of milliseconds, e.g. 90_000 → "PT1M30S", 86_400_000 → "P1D". */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "PT0S";
  let rest = Math.round(ms);
  const days = Math.floor(rest / DAY);
  rest -= days * DAY;
  const hours = Math.floor(rest / HOUR);
  rest -= hours * HOUR;
  const minutes = Math.floor(rest / MINUTE);
  rest -= minutes * MINUTE;
  const seconds = rest / SECOND;
  let time = "";
  if (hours) time += `${hours}H`;
  if (minutes) time += `${minutes}M`;
  if (seconds) time += `${Number(seconds.toFixed(3))}S`;
  return `P${days ? `${days}D` : ""}${time ? `T${time}` : ""}`;
}

/** ISO instant plus milliseconds. */
export const addMs = (iso: string, ms: number): string => new Date(Date.parse(iso) + ms).toISOString();
/** Milliseconds from one ISO instant to another. */
export const msBetween = (fromIso: string, toIso: string): number => Date.parse(toIso) - Date.parse(fromIso);
