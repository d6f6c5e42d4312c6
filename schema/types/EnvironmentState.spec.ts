// The environments of a feature during a release: each segment target it has rolled out, once.
import { describe, expect, it } from "vitest";
import type { Release } from "../../services/release/release.ts";
import { environmentStates } from "./EnvironmentState.ts";

const definition = { enabled: false, value: null, rules: [] };

describe("environmentStates", () => {
  it("lists a segment target rolled out by two phases once (ENABLE then APPLY_CHANGE on us-west)", () => {
    const west = { environment: "production", segment: "us-west" };
    const east = { environment: "production", segment: "us-east" };
    const release = {
      status: "IN_PROGRESS",
      rolledOut: [
        { phaseIndex: 0, targets: [west], definitions: [] },
        { phaseIndex: 1, targets: [west, east], definitions: [] },
      ],
    } as unknown as Release;
    const [production] = environmentStates({ environments: [{ environment: "production", definition }] }, release);
    expect(production?.rolledOutTargets).toEqual([west, east]);
  });
});
