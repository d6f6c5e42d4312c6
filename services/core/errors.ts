// Domain errors carry the contract's ErrorCode; the API maps them onto `extensions.code`.

export const ERROR_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "VALIDATION",
  "CONFLICT",
  "IMMUTABLE",
  "PIPELINE_IN_USE",
  "PIPELINE_NOT_PUBLISHED",
  "RELEASE_IN_PROGRESS",
  "INVALID_STATE",
  "SELF_APPROVAL_FORBIDDEN",
  "RATE_LIMITED",
  "INTERNAL",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  readonly code: ErrorCode;
  /** For VALIDATION: the input field at fault, e.g. `phases[1].waitFor`. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = "DomainError";
    this.code = code;
    this.field = field;
  }
}

export const validation = (field: string, reason: string): DomainError =>
  new DomainError("VALIDATION", `${field}: ${reason}`, field);

export const isDomainError = (error: unknown): error is DomainError =>
  error instanceof DomainError ||
  (typeof error === "object" &&
    error !== null &&
    (error as { name?: unknown }).name === "DomainError" &&
    ERROR_CODES.includes((error as { code?: ErrorCode }).code as ErrorCode));
