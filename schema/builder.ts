// The Pothos schema builder: plugins, scalar shapes and the typed context. It defines no types; each
// GraphQL type lives in its own file under types/ with its root fields (STYLE example 10).

import SchemaBuilder from "@pothos/core";
import ScopeAuthPlugin from "@pothos/plugin-scope-auth";
import { DomainError } from "../services/core/errors.ts";
import { roleAtLeast } from "../services/core/model.ts";
import type { ApiContext } from "./context.ts";

export interface SchemaTypes {
  Context: ApiContext;
  /** One scope per role; a token has every scope up to its role (VIEWER < EDITOR < APPROVER < ADMIN). */
  AuthScopes: { viewer: boolean; editor: boolean; approver: boolean; admin: boolean };
  Scalars: {
    ID: { Input: string; Output: string };
    /** ISO-8601 instant, UTC. */
    DateTime: { Input: string; Output: string | Date };
    /** ISO-8601 duration text on input (validated); text or milliseconds on output. */
    Duration: { Input: string; Output: string | number };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
}

const SCOPE_ROLES = { viewer: "VIEWER", editor: "EDITOR", approver: "APPROVER", admin: "ADMIN" } as const;

export const builder = new SchemaBuilder<SchemaTypes>({
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Subscriptions are authorized once, when they are created (and the token is known).
    authorizeOnSubscribe: true,
    authScopes: (context) => {
      const role = context.auth?.role;
      return {
        viewer: role !== undefined && roleAtLeast(role, SCOPE_ROLES.viewer),
        editor: role !== undefined && roleAtLeast(role, SCOPE_ROLES.editor),
        approver: role !== undefined && roleAtLeast(role, SCOPE_ROLES.approver),
        admin: role !== undefined && roleAtLeast(role, SCOPE_ROLES.admin),
      };
    },
    unauthorizedError: (_parent, context, info, result) => {
      if (context.auth === null) {
        return new DomainError("UNAUTHENTICATED", "A valid API token is required (Authorization: Bearer <secret>).");
      }
      const needed = neededRole(result.failure);
      return new DomainError(
        "FORBIDDEN",
        `${info.parentType.name}.${info.fieldName} needs the ${needed ?? "a higher"} role; token "${context.auth.name}" is ${context.auth.role}.`,
      );
    },
  },
});

function neededRole(failure: unknown): string | null {
  if (typeof failure !== "object" || failure === null) return null;
  const scope = (failure as { scope?: unknown }).scope;
  if (typeof scope === "string" && scope in SCOPE_ROLES) return SCOPE_ROLES[scope as keyof typeof SCOPE_ROLES];
  const nested = (failure as { failures?: unknown }).failures;
  if (Array.isArray(nested)) {
    for (const item of nested) {
      const found = neededRole(item);
      if (found) return found;
    }
  }
  return null;
}
