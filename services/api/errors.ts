// Every error the API answers carries `extensions.code` from the contract's ErrorCode:
// - DomainError → its code and message (and `field` for VALIDATION);
// - GraphQL syntax, validation and variable-coercion errors (and Yoga's HTTP request errors) → VALIDATION;
// - anything else is unexpected: logged, and masked as INTERNAL "Unexpected error.".
// `toPublicError` is Yoga's `maskedErrors.maskError` (HTTP and SSE) and also formats graphql-ws results.
// Nothing internal leaves: an INTERNAL answer says only that, with the request id its log line carries;
// extensions are rebuilt from a short list (code, field, limit, requestId), so no library's
// `originalError`, stack or parser text passes through.

import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { type ASTNode, GraphQLError, Kind, parse } from "graphql";
import { type DomainError, ERROR_CODES, type ErrorCode, isDomainError } from "../core/errors.ts";
import type { Logger } from "../platform/logger.ts";

export const UNEXPECTED_MESSAGE = "Unexpected error.";

/** The request being answered (HTTP: around Yoga's fetch; graphql-ws: around each subscription's setup). */
export const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/** Extensions an answer may carry; `http` is Yoga's status hint, read by Yoga and not sent. */
const PUBLIC_EXTENSIONS = ["code", "field", "limit", "requestId", "http"] as const;

/** The extensions of `error` an answer may carry. */
function publicExtensions(error: GraphQLError): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of PUBLIC_EXTENSIONS) {
    if (key !== "http" && error.extensions?.[key] !== undefined) picked[key] = error.extensions[key];
  }
  return picked;
}

/** The INTERNAL answer: says nothing but that, and the id the log line carries. */
function internalError(
  cause: unknown,
  logger: Logger | undefined,
  where: Pick<GraphQLError, "nodes" | "source" | "positions" | "path"> = {} as never,
  requestId?: string,
): GraphQLError {
  const id = requestId ?? requestScope.getStore()?.requestId ?? randomUUID();
  logger?.error({ err: cause, requestId: id, path: where.path }, "unexpected error");
  return new GraphQLError(`${UNEXPECTED_MESSAGE} Request id: ${id}.`, {
    nodes: where.nodes,
    source: where.source,
    positions: where.positions,
    path: where.path,
    extensions: { code: "INTERNAL", requestId: id },
  });
}

const isErrorCode = (code: unknown): code is ErrorCode => ERROR_CODES.includes(code as ErrorCode);

/** The innermost cause of a GraphQLError (graphql-js and Yoga wrap errors in GraphQLErrors). */
function rootCause(error: GraphQLError): unknown {
  let current: unknown = error;
  while (current instanceof GraphQLError && current.originalError !== undefined && current.originalError !== null) {
    if (isErrorCode(current.extensions?.code)) return current;
    current = current.originalError;
  }
  return current;
}

function withCode(error: GraphQLError, message: string, code: ErrorCode, extra: Record<string, unknown> = {}) {
  const extensions: Record<string, unknown> = {};
  // Keep Yoga's HTTP status for request-level errors (e.g. 400 for a syntax error, 413 for a large body).
  for (const key of PUBLIC_EXTENSIONS) {
    if (error.extensions?.[key] !== undefined) extensions[key] = error.extensions[key];
  }
  Object.assign(extensions, extra, { code });
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions,
  });
}

/** Rewrites any error into one whose `extensions.code` is an ErrorCode. */
export function toPublicError(error: unknown, logger?: Logger, requestId?: string): GraphQLError {
  if (!(error instanceof GraphQLError)) {
    if (isDomainError(error) && error.code !== "INTERNAL") return domainToGraphQL(error);
    return internalError(error, logger, undefined, requestId);
  }
  // Already public (a second pass): unchanged.
  if (error.extensions?.code === "INTERNAL" && typeof error.extensions.requestId === "string") return error;
  const cause = rootCause(error);
  // A DomainError INTERNAL is a broken invariant: its message is for the logs, not the caller.
  if (isDomainError(cause) && cause.code === "INTERNAL") return internalError(cause, logger, error, requestId);
  if (isDomainError(cause)) {
    // A scalar's parse error during validation or variable coercion: say which field it was.
    if (cause.code === "VALIDATION" && error.path === undefined && cause.field === undefined) {
      const field = fieldOfCoercionError(error);
      if (field !== null) {
        return withCode(error, `${field}: ${cause.message}`, "VALIDATION", { field });
      }
      return withCode(error, error.message, "VALIDATION");
    }
    return withCode(error, cause.message, cause.code, cause.field === undefined ? {} : { field: cause.field });
  }
  if (cause instanceof GraphQLError) {
    const code = cause.extensions?.code;
    if (code === "INTERNAL") return internalError(cause, logger, error, requestId);
    if (isErrorCode(code)) return withCode(error, error.message, code, publicExtensions(cause));
    // Produced by graphql-js or Yoga themselves: syntax, validation, coercion, bad HTTP request.
    return withCode(error, error.message, "VALIDATION");
  }
  if (error.path === undefined && isCoercionMessage(error.message)) return withCode(error, error.message, "VALIDATION");
  return internalError(cause, logger, error, requestId);
}

/** Variable coercion errors from graphql-js carry the thrown error as originalError but no path. */
const isCoercionMessage = (message: string): boolean =>
  /^Variable "\$[^"]+" got invalid value/.test(message) || /^Expected value of type/.test(message);

function domainToGraphQL(error: DomainError): GraphQLError {
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: { code: error.code, ...(error.field === undefined ? {} : { field: error.field }) },
  });
}

/**
 * The input path (e.g. `input.phases[0].waitFor`) of the value an error points at: for a variable, the
 * path graphql-js puts in the message; for a literal, found by walking the document to the error's node.
 */
function fieldOfCoercionError(error: GraphQLError): string | null {
  const variable = /^Variable "\$([^"]+)" got invalid value .*? at "([^"]+)"/.exec(error.message);
  if (variable) return variable[2] ?? null;
  const plainVariable = /^Variable "\$([^"]+)" got invalid value/.exec(error.message);
  if (plainVariable) return plainVariable[1] ?? null;
  const offset = error.nodes?.[0]?.loc?.start;
  const body = error.source?.body;
  if (offset === undefined || body === undefined) return null;
  try {
    return findValuePath(parse(body, { noLocation: false }), offset);
  } catch {
    return null;
  }
}

function findValuePath(document: ASTNode, offset: number): string | null {
  const visit = (node: ASTNode, path: string): string | null => {
    switch (node.kind) {
      case Kind.ARGUMENT:
        return visit(node.value, node.name.value);
      case Kind.OBJECT_FIELD:
        return visit(node.value, path === "" ? node.name.value : `${path}.${node.name.value}`);
      case Kind.OBJECT:
        if (node.loc?.start === offset && path !== "") return path;
        for (const field of node.fields) {
          const found = visit(field, path);
          if (found !== null) return found;
        }
        return null;
      case Kind.LIST:
        if (node.loc?.start === offset && path !== "") return path;
        for (let i = 0; i < node.values.length; i++) {
          const value = node.values[i];
          const found = value === undefined ? null : visit(value, `${path}[${i}]`);
          if (found !== null) return found;
        }
        return null;
      case Kind.STRING:
      case Kind.INT:
      case Kind.FLOAT:
      case Kind.BOOLEAN:
      case Kind.ENUM:
      case Kind.NULL:
      case Kind.VARIABLE:
        return node.loc?.start === offset && path !== "" ? path : null;
      default: {
        // Descend through documents, operations, selections and fields to their arguments.
        for (const value of Object.values(node)) {
          const children = Array.isArray(value) ? value : [value];
          for (const child of children) {
            if (child !== null && typeof child === "object" && typeof (child as { kind?: unknown }).kind === "string") {
              const found = visit(child as ASTNode, "");
              if (found !== null) return found;
            }
          }
        }
        return null;
      }
    }
  };
  return visit(document, "");
}
