import { describe, expect, it } from "vitest";
import { bucket, murmur3 } from "./hash.ts";

describe("murmur3", () => {
  it("matches MurmurHash3_x86_32's published vectors", () => {
    expect(murmur3("")).toBe(0);
    expect(murmur3("", 1)).toBe(0x514e28b7);
    expect(murmur3("a")).toBe(0x3c2569b2);
    expect(murmur3("abc")).toBe(0xb3dd93fa);
    expect(murmur3("hello")).toBe(0x248bfa47);
    expect(murmur3("The quick brown fox jumps over the lazy dog")).toBe(0x2e4ff723);
  });

  it("hashes the UTF-8 bytes of text beyond ASCII (2-, 3- and 4-byte characters)", () => {
    // Reference values from an independent implementation over Python's UTF-8 encoding.
    expect(murmur3("héllo wörld")).toBe(0x97f7f274);
    expect(murmur3("€")).toBe(0x5b43fca5);
    expect(murmur3("😀")).toBe(0xbeb42efa);
  });

  it("handles every tail length", () => {
    expect([murmur3("ab"), murmur3("abcd")]).toEqual([0x9bbfd75f, 0x43ed676a]);
  });
});

describe("bucket", () => {
  it("pins known units to known buckets, so a change of hash fails here", () => {
    expect(bucket("new-checkout:beta:user-1")).toBe(85.46);
    expect(bucket("new-checkout:beta:user-2")).toBe(10.27);
    expect(bucket("new-checkout:beta:alice")).toBe(8.61);
  });

  it("lies in [0, 100) with at most two decimals", () => {
    for (let i = 0; i < 2000; i++) {
      const b = bucket(`k:s:${i}`);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(100);
      expect(Math.round(b * 100)).toBeCloseTo(b * 100, 6);
    }
  });
});
