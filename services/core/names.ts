// How actor names are compared: a token's name is who acted and who approved, so two spellings a person
// reads as one name are one name. Used by the token slice (uniqueness, reserved names, lookup by name),
// token ids (services/core/ids.ts) and the release decider's approval rules (distinct approvers,
// self-approval).

/**
 * The form in which names are compared: NFKC, trimmed, case-folded, and NFKC again (case mapping can
 * produce a sequence NFKC composes). Case folding is upper- then lower-casing, which maps the letters whose
 * full upper case is several characters (ß → SS → ss, ᾀ → ἈΙ → ἀι) the same way from either case, as
 * Unicode's full case folding does. Two names are the same person iff their normal forms are equal.
 */
export function normalizeTokenName(name: string): string {
  return name.normalize("NFKC").trim().toUpperCase().toLowerCase().normalize("NFKC");
}

/** Whether two actor names denote the same token (approver identity, self-approval). */
export const sameActor = (a: string, b: string): boolean => normalizeTokenName(a) === normalizeTokenName(b);
