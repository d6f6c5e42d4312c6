import { describe, expect, it } from "vitest";
import { isWithinWindows, nextWindowOpening, type PromotionWindow, requireWindows } from "./windows.ts";

const weekdays = (timeZone: string, start = "09:00", end = "17:00"): PromotionWindow => ({
  days: ["MON", "TUE", "WED", "THU", "FRI"],
  start,
  end,
  timeZone,
});

describe("promotion windows across daylight-saving changes", () => {
  it("America/New_York, spring forward (8 March 2026): Monday 09:00 is 13:00Z after, 14:00Z before", () => {
    const w = [weekdays("America/New_York")];
    expect(nextWindowOpening(w, "2026-02-27T22:30:00.000Z")).toBe("2026-03-02T14:00:00.000Z");
    expect(nextWindowOpening(w, "2026-03-06T22:30:00.000Z")).toBe("2026-03-09T13:00:00.000Z");
    expect(isWithinWindows(w, "2026-03-09T12:59:00.000Z")).toBe(false);
    expect(isWithinWindows(w, "2026-03-09T13:00:00.000Z")).toBe(true);
    expect(isWithinWindows(w, "2026-03-09T20:59:00.000Z")).toBe(true);
    expect(isWithinWindows(w, "2026-03-09T21:00:00.000Z")).toBe(false);
  });

  it("America/New_York, fall back (1 November 2026): Monday 09:00 is 14:00Z", () => {
    const w = [weekdays("America/New_York")];
    expect(nextWindowOpening(w, "2026-10-30T21:30:00.000Z")).toBe("2026-11-02T14:00:00.000Z");
    expect(isWithinWindows(w, "2026-11-02T13:30:00.000Z")).toBe(false);
    expect(isWithinWindows(w, "2026-11-02T14:00:00.000Z")).toBe(true);
  });

  it("Europe/Berlin, both transitions (29 March and 25 October 2026) on a Sunday window", () => {
    const sunday: PromotionWindow[] = [{ days: ["SUN"], start: "09:00", end: "16:00", timeZone: "Europe/Berlin" }];
    expect(nextWindowOpening(sunday, "2026-03-28T16:00:00.000Z")).toBe("2026-03-29T07:00:00.000Z");
    expect(nextWindowOpening(sunday, "2026-10-24T16:00:00.000Z")).toBe("2026-10-25T08:00:00.000Z");
    expect(isWithinWindows(sunday, "2026-03-29T13:59:00.000Z")).toBe(true);
    expect(isWithinWindows(sunday, "2026-03-29T14:00:00.000Z")).toBe(false);
    expect(isWithinWindows(sunday, "2026-10-25T14:59:00.000Z")).toBe(true);
    expect(isWithinWindows(sunday, "2026-10-25T15:00:00.000Z")).toBe(false);
  });

  it("a window starting in the skipped hour opens when the clocks jump; the repeated hour is inside twice", () => {
    const skipped: PromotionWindow[] = [{ days: ["SUN"], start: "02:30", end: "04:00", timeZone: "America/New_York" }];
    expect(nextWindowOpening(skipped, "2026-03-08T05:00:00.000Z")).toBe("2026-03-08T07:00:00.000Z");
    expect(isWithinWindows(skipped, "2026-03-08T06:59:00.000Z")).toBe(false);
    expect(isWithinWindows(skipped, "2026-03-08T07:00:00.000Z")).toBe(true);
    const repeated: PromotionWindow[] = [{ days: ["SUN"], start: "01:00", end: "02:00", timeZone: "America/New_York" }];
    expect(isWithinWindows(repeated, "2026-11-01T05:30:00.000Z")).toBe(true); // 01:30 EDT
    expect(isWithinWindows(repeated, "2026-11-01T06:30:00.000Z")).toBe(true); // 01:30 EST
    expect(isWithinWindows(repeated, "2026-11-01T07:00:00.000Z")).toBe(false); // 02:00 EST
  });

  it("Europe/Berlin: a window in the skipped hour (02:00-03:00 does not exist on 29 March) opens at 03:00 CEST", () => {
    const w: PromotionWindow[] = [{ days: ["SUN"], start: "02:15", end: "05:00", timeZone: "Europe/Berlin" }];
    expect(nextWindowOpening(w, "2026-03-28T23:00:00.000Z")).toBe("2026-03-29T01:00:00.000Z");
  });
});

describe("promotion windows", () => {
  it("run past midnight when end is before start", () => {
    const w: PromotionWindow[] = [{ days: ["FRI"], start: "22:00", end: "02:00", timeZone: "Europe/Berlin" }];
    // Friday 4 December 2026, CET = UTC+1.
    expect(isWithinWindows(w, "2026-12-04T20:59:00.000Z")).toBe(false);
    expect(isWithinWindows(w, "2026-12-04T21:00:00.000Z")).toBe(true);
    expect(isWithinWindows(w, "2026-12-05T00:59:00.000Z")).toBe(true);
    expect(isWithinWindows(w, "2026-12-05T01:00:00.000Z")).toBe(false);
    expect(nextWindowOpening(w, "2026-12-05T01:00:00.000Z")).toBe("2026-12-11T21:00:00.000Z");
  });

  it("open whenever a pipeline has none, and at the instant asked when already open", () => {
    expect(isWithinWindows([], "2026-12-05T01:00:00.000Z")).toBe(true);
    expect(nextWindowOpening([], "2026-12-05T01:00:00.000Z")).toBeNull();
    const w = [weekdays("UTC", "00:00", "24:00")];
    expect(nextWindowOpening(w, "2026-12-04T12:00:00.000Z")).toBe("2026-12-04T12:00:00.000Z");
    expect(nextWindowOpening(w, "2026-12-05T12:00:00.000Z")).toBe("2026-12-07T00:00:00.000Z");
  });

  it.each([
    [[{ days: [], start: "09:00", end: "17:00", timeZone: "UTC" }], "windows[0].days"],
    [[{ days: ["MON", "FUNDAY"], start: "09:00", end: "17:00", timeZone: "UTC" }], "windows[0].days"],
    [[{ days: ["MON"], start: "9:00", end: "17:00", timeZone: "UTC" }], "windows[0].start"],
    [[{ days: ["MON"], start: "09:00", end: "25:00", timeZone: "UTC" }], "windows[0].end"],
    [[{ days: ["MON"], start: "09:00", end: "09:00", timeZone: "UTC" }], "windows[0].end"],
    [[{ days: ["MON"], start: "09:00", end: "17:00", timeZone: "Mars/Olympus_Mons" }], "windows[0].timeZone"],
  ])("refuses %j naming %s", (windows, field) => {
    expect(() => requireWindows("windows", windows)).toThrow(expect.objectContaining({ code: "VALIDATION", field }));
  });

  it("keeps the days in week order", () => {
    expect(
      requireWindows("windows", [{ days: ["FRI", "MON"], start: "09:00", end: "17:00", timeZone: "Asia/Tokyo" }]),
    ).toEqual([{ days: ["MON", "FRI"], start: "09:00", end: "17:00", timeZone: "Asia/Tokyo" }]);
  });
});
