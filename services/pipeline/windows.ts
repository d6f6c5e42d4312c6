// Promotion windows: weekly windows in an IANA time zone in which a pipeline's phases may roll out
// (e.g. MON-FRI 09:00-16:00 Europe/Berlin). Pure and deterministic — it runs in the release decider, so in
// the workflow sandbox too: local wall-clock time comes from Intl (the zone database Node carries), never
// from a hand-written offset table, so daylight-saving changes are those of the zone.
//
// A window opens on each of its days at `start` local time and closes at `end`; an `end` at or before
// `start` runs past midnight into the next day (FRI 22:00-02:00 is open until Saturday 02:00), and
// "00:00"-"24:00" is the whole day. On a spring-forward day a start inside the skipped hour opens the window
// when the clocks jump (02:30 → 03:00); on a fall-back day the repeated hour is inside the window both times.

import { validation } from "../core/errors.ts";

export const WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface PromotionWindow {
  days: Weekday[];
  /** "HH:MM", 24-hour, local to `timeZone`. */
  start: string;
  /** "HH:MM" (or "24:00"); at or before `start`: the window ends the next day. */
  end: string;
  timeZone: string;
}

export const MAX_WINDOWS = 20;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

const SHORT_DAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

interface Local {
  year: number;
  month: number;
  day: number;
  /** 0 = MON … 6 = SUN */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
}

/** The wall clock in `timeZone` at the instant `ms` (to the minute). */
export function localTime(timeZone: string, ms: number): Local {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(ms))) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: SHORT_DAYS[parts.weekday ?? ""] ?? 0,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** The local wall clock at `ms` read as if it were UTC: comparable across instants of one zone. */
const wallMs = (timeZone: string, ms: number): number => {
  const local = localTime(timeZone, ms);
  return Date.UTC(local.year, local.month - 1, local.day) + local.minute * 60_000;
};

/**
 * The first instant whose wall clock in `timeZone` is at or after the given local date and minute: the
 * instant itself on an ordinary day, the earlier one of a repeated hour, the end of a skipped hour.
 */
export function instantOf(timeZone: string, year: number, month: number, day: number, minute: number): number {
  const wanted = Date.UTC(year, month - 1, day) + minute * 60_000;
  // Every zone's offset is within ±18 h: search that span to the minute.
  let low = Math.floor((wanted - 18 * 3_600_000) / 60_000);
  let high = Math.ceil((wanted + 18 * 3_600_000) / 60_000);
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (wallMs(timeZone, mid * 60_000) >= wanted) high = mid;
    else low = mid + 1;
  }
  return low * 60_000;
}

const parseClock = (text: string): number => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

function windowOpenAt(window: PromotionWindow, ms: number): boolean {
  const local = localTime(window.timeZone, ms);
  const days = window.days.map((day) => WEEKDAYS.indexOf(day));
  const start = parseClock(window.start);
  const end = parseClock(window.end);
  if (start < end) return days.includes(local.weekday) && local.minute >= start && local.minute < end;
  // Past midnight (or the whole day when start = end = 00:00 … 24:00 is handled by start < end).
  if (days.includes(local.weekday) && local.minute >= start) return true;
  return days.includes((local.weekday + 6) % 7) && local.minute < end;
}

/** Whether `at` (an ISO instant) is inside some window; true when there are none. */
export function isWithinWindows(windows: readonly PromotionWindow[], at: string): boolean {
  if (windows.length === 0) return true;
  const ms = Date.parse(at);
  return windows.some((window) => windowOpenAt(window, ms));
}

/** The first instant at or after `at` inside some window (ISO), `at` itself when open; null without windows. */
export function nextWindowOpening(windows: readonly PromotionWindow[], at: string): string | null {
  if (windows.length === 0 || isWithinWindows(windows, at)) return windows.length === 0 ? null : at;
  const from = Date.parse(at);
  let best: number | null = null;
  for (const window of windows) {
    const today = localTime(window.timeZone, from);
    const start = parseClock(window.start);
    for (let k = 0; k <= 8; k++) {
      const date = new Date(Date.UTC(today.year, today.month - 1, today.day + k));
      const weekday = (today.weekday + k) % 7;
      if (!window.days.map((day) => WEEKDAYS.indexOf(day)).includes(weekday)) continue;
      const opens = instantOf(window.timeZone, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), start);
      if (opens > from && (best === null || opens < best) && windowOpenAt(window, opens)) best = opens;
    }
  }
  return best === null ? null : new Date(best).toISOString();
}

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The windows as given, checked; VALIDATION naming the field (`windows[1].timeZone`) otherwise. */
export function requireWindows(field: string, value: unknown): PromotionWindow[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw validation(field, "must be a list of windows");
  if (value.length > MAX_WINDOWS) throw validation(field, `at most ${MAX_WINDOWS} windows (got ${value.length})`);
  return value.map((raw, i): PromotionWindow => {
    const at = `${field}[${i}]`;
    const window = (raw ?? {}) as Partial<PromotionWindow>;
    if (!Array.isArray(window.days) || window.days.length === 0) {
      throw validation(`${at}.days`, `must name at least one of ${WEEKDAYS.join(", ")}`);
    }
    for (const day of window.days) {
      if (!WEEKDAYS.includes(day))
        throw validation(`${at}.days`, `must be among ${WEEKDAYS.join(", ")} (got ${String(day)})`);
    }
    if (typeof window.start !== "string" || !CLOCK.test(window.start)) {
      throw validation(`${at}.start`, `must be a 24-hour local time HH:MM (got ${String(window.start)})`);
    }
    if (typeof window.end !== "string" || !(CLOCK.test(window.end) || window.end === "24:00")) {
      throw validation(`${at}.end`, `must be a 24-hour local time HH:MM or 24:00 (got ${String(window.end)})`);
    }
    if (window.start === window.end) {
      throw validation(`${at}.end`, "must differ from start (00:00-24:00 is the whole day)");
    }
    if (typeof window.timeZone !== "string" || window.timeZone.length > 64) {
      throw validation(`${at}.timeZone`, "must be an IANA time zone such as Europe/Berlin");
    }
    try {
      formatter(window.timeZone);
    } catch {
      throw validation(`${at}.timeZone`, `must be an IANA time zone such as Europe/Berlin (got ${window.timeZone})`);
    }
    return {
      days: WEEKDAYS.filter((day) => (window.days as string[]).includes(day)),
      start: window.start,
      end: window.end,
      timeZone: window.timeZone,
    };
  });
}
