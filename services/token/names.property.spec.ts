// Property tests of token-name normalisation: the name is who acted and who approved, so every spelling a
// person would read as the same name must normalise to one form, and different names must stay different.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { normalizeTokenName, sameActor } from "./token.ts";

const name = fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 });
const asciiName = fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/);
const space = fc.constantFrom(" ", "\t", "\u00a0", "\u3000", "\n");

/** Full-width forms of printable ASCII (U+FF01..U+FF5E), which NFKC folds back. */
const fullWidth = (text: string): string =>
  [...text].map((c) => (c >= "!" && c <= "~" ? String.fromCodePoint((c.codePointAt(0) ?? 0) + 0xfee0) : c)).join("");

describe("normalizeTokenName", () => {
  it("is idempotent", () => {
    fc.assert(fc.property(name, (n) => normalizeTokenName(normalizeTokenName(n)) === normalizeTokenName(n)));
  });

  it("ignores case: upper, lower and mixed spellings are one name", () => {
    fc.assert(
      fc.property(name, (n) => {
        expect(normalizeTokenName(n.toUpperCase())).toBe(normalizeTokenName(n.toLowerCase()));
      }),
    );
  });

  it("ignores surrounding white space", () => {
    fc.assert(
      fc.property(name, space, space, (n, before, after) => {
        expect(normalizeTokenName(`${before}${n}${after}`)).toBe(normalizeTokenName(n));
      }),
    );
  });

  it("folds compatibility forms: full-width letters and digits are their ASCII selves", () => {
    fc.assert(fc.property(asciiName, (n) => sameActor(fullWidth(n), n.toUpperCase())));
  });

  it("treats composed and decomposed accents as one name", () => {
    fc.assert(
      fc.property(name, (n) => {
        expect(normalizeTokenName(n.normalize("NFD"))).toBe(normalizeTokenName(n.normalize("NFC")));
      }),
    );
  });

  it("keeps names that differ in letters apart", () => {
    fc.assert(
      fc.property(asciiName, asciiName, (a, b) => {
        fc.pre(a !== b);
        expect(sameActor(a, b)).toBe(false);
      }),
    );
  });
});
