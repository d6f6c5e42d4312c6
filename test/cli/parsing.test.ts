// The CLI's small pure parts: durations and times on the command line, and the timeline's wording.

import { describe, expect, it } from "vitest";
import { parseDurationMs, parseSince } from "../../cli/main.ts";
import { shortDuration } from "../../cli/render.ts";

describe("rp's command-line values", () => {
  it("--timeout takes seconds, units or ISO-8601 durations", () => {
    expect(parseDurationMs("90")).toBe(90_000);
    expect(parseDurationMs("90s")).toBe(90_000);
    expect(parseDurationMs("15m")).toBe(900_000);
    expect(parseDurationMs("2h")).toBe(7_200_000);
    expect(parseDurationMs("1d")).toBe(86_400_000);
    expect(parseDurationMs("250ms")).toBe(250);
    expect(parseDurationMs("PT1H30M")).toBe(5_400_000);
    expect(parseDurationMs("P1DT1S")).toBe(86_401_000);
    for (const bad of ["", "soon", "PT", "P", "-5s", "1w"])
      expect(() => parseDurationMs(bad)).toThrow(/not a duration/);
  });

  it("--since takes a time, or a duration meaning that long ago", () => {
    const now = new Date("2026-11-29T12:00:00.000Z");
    expect(parseSince("1h", now)).toBe("2026-11-29T11:00:00.000Z");
    expect(parseSince("2026-11-29T10:00:00Z", now)).toBe("2026-11-29T10:00:00.000Z");
    expect(parseSince("2026-11-29T10:00:00+01:00", now)).toBe("2026-11-29T09:00:00.000Z");
    expect(() => parseSince("yesterday", now)).toThrow(/neither a time/);
  });

  it("the timeline shows durations the short way", () => {
    expect(shortDuration("PT10S")).toBe("10s");
    expect(shortDuration("PT1H30M")).toBe("1h30m");
    expect(shortDuration("P1D")).toBe("1d");
    expect(shortDuration(null)).toBeNull();
  });
});
