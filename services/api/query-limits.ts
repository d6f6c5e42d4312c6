// Query limits, checked before anything executes (PRODUCT.md "Tokens and limits"): tokens, depth, aliases,
// directives and cost — counted WITH the request's variables, fragments and introspection — plus
// "introspection needs a token" and no field suggestions in errors. Each refusal is VALIDATION with
// `extensions.limit` naming the limit and a message naming it and its number (never "Syntax Error").
//
// graphql-armor does tokens, depth, aliases and directives; its cost plugin cannot see variables (a
// `first: $n` counted as 1), so cost is graphql-query-complexity's rule, fed the operation's variables.
// Connections take `first` from 1 to 500 (checked by their resolvers too), so the worst page is priced.

import { blockFieldSuggestionsPlugin } from "@escape.tech/graphql-armor-block-field-suggestions";
import { maxAliasesPlugin } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthPlugin } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesPlugin } from "@escape.tech/graphql-armor-max-directives";
import { maxTokensPlugin } from "@escape.tech/graphql-armor-max-tokens";
import {
  type ASTVisitor,
  type ExecutionResult,
  GraphQLError,
  getNamedType,
  getOperationAST,
  isListType,
  isNonNullType,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { type ComplexityEstimatorArgs, createComplexityRule } from "graphql-query-complexity";
import type { Plugin } from "graphql-yoga";
import type { AuthInfo } from "../core/caller.ts";
import { DomainError, validation } from "../core/errors.ts";

export interface QueryLimits {
  /** Lexical tokens in the document (default 10,000: a 500-event page with every field is ~40). */
  maxTokens: number;
  /** Field nesting, fragments flattened, introspection included (default 15: the standard introspection query is 13). */
  maxDepth: number;
  /** Aliased fields in the operation, fragments counted where spread (default 30). */
  maxAliases: number;
  /** Directives in the operation (default 20). */
  maxDirectives: number;
  /** Estimated cost (see `estimateCost`; default 50,000). */
  maxCost: number;
  /** A connection's page size: `first` from 1 to this (default 500). */
  maxFirst: number;
  /** Wall-clock time a request may execute (default 10 s). */
  timeBudgetMs: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxTokens: 10_000,
  maxDepth: 15,
  maxAliases: 30,
  maxDirectives: 20,
  maxCost: 50_000,
  maxFirst: 500,
  timeBudgetMs: 10_000,
};

/** A list field without `first` is priced as this many items (lists under one entity are bounded: ≤ 100). */
export const LIST_COST_FACTOR = 10;
/** A field that folds a stream from the event log (the `…AsOf` audit replay). */
export const FOLD_COST = 100;

/** The refusal of a query for breaking `limit`. */
export function queryLimitError(limit: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "VALIDATION", limit } });
}

/**
 * What a field costs: 1, plus its children; a connection (a field with `first`) its children times `first`
 * (its default when not given), a list its children times LIST_COST_FACTOR; folding audit replay FOLD_COST.
 */
export function estimateCost({ type: parent, field, args, childComplexity }: ComplexityEstimatorArgs): number {
  let type = field.type;
  if (isNonNullType(type)) type = type.ofType;
  const fold = field.name.endsWith("AsOf") ? FOLD_COST : 0;
  if (typeof args.first === "number") return 1 + fold + Math.max(1, args.first) * Math.max(1, childComplexity);
  // A connection's edges are its page: already priced by `first` on the connection's field.
  if (isListType(type) && !parent.name.endsWith("Connection")) {
    return 1 + fold + LIST_COST_FACTOR * Math.max(1, childComplexity);
  }
  return 1 + fold + childComplexity;
}

/** Throws VALIDATION at `first` unless it is an integer from 1 to `max`. */
export function requireFirst(first: number | null | undefined, max: number = DEFAULT_QUERY_LIMITS.maxFirst): number {
  const value = first ?? 50;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw validation("first", `must be from 1 to ${max} (got ${String(first)})`);
  }
  return value;
}

/** Introspection (`__schema`, `__type`) answers only callers with a valid token; `__typename` is free. */
function introspectionNeedsToken(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      const type = getNamedType(context.getType() ?? undefined);
      if (node.name.value === "__schema" || node.name.value === "__type" || type?.name === "__Schema") {
        context.reportError(
          new GraphQLError("Introspection needs a valid API token (Authorization: Bearer <secret>).", {
            nodes: [node],
            extensions: { code: "UNAUTHENTICATED" },
          }),
        );
      }
    },
  };
}

/**
 * The cost rule reads argument and variable values (to price `first`); values that do not coerce are
 * reported from inside it. Such a query is invalid anyway and graphql-js's own rules and variable
 * coercion report it, naming the field: the cost rule passes on only its own refusal, and steps aside
 * (prices nothing) when it cannot read a value.
 */
function tolerant(rule: ValidationRule): ValidationRule {
  return (context) => {
    const quiet = new Proxy(context, {
      get(target, property) {
        if (property === "reportError") {
          return (error: GraphQLError) => {
            if (error.extensions?.limit !== undefined) target.reportError(error);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const visitor = rule(quiet) as Record<string, unknown>;
    const guard =
      (fn: (...args: unknown[]) => unknown) =>
      (...args: unknown[]): unknown => {
        try {
          return fn.apply(visitor, args);
        } catch (error) {
          if (error instanceof GraphQLError && error.extensions?.limit !== undefined) throw error;
          return undefined;
        }
      };
    const wrapped: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(visitor)) {
      if (typeof value === "function") wrapped[key] = guard(value as (...args: unknown[]) => unknown);
      else if (value !== null && typeof value === "object") {
        wrapped[key] = Object.fromEntries(
          Object.entries(value).map(([k, v]) => [k, typeof v === "function" ? guard(v) : v]),
        );
      } else wrapped[key] = value;
    }
    return wrapped as ASTVisitor;
  };
}

/** Brackets may nest this deep in a document's text (selection sets, lists, objects, arguments). */
export const MAX_DOCUMENT_NESTING = 64;

/**
 * The deepest nesting of `{`, `[` and `(` in a GraphQL document's text, strings and comments skipped: the
 * parser recurses once per level, so a 5,000-deep literal must be refused before it is parsed.
 */
export function documentNesting(source: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "#") {
      while (i < source.length && source[i] !== "\n" && source[i] !== "\r") i++;
    } else if (c === '"') {
      if (source.startsWith('"""', i)) {
        const end = source.indexOf('"""', i + 3);
        i = end < 0 ? source.length : end + 2;
      } else {
        for (i++; i < source.length && source[i] !== '"' && source[i] !== "\n"; i++) if (source[i] === "\\") i++;
      }
    } else if (c === "{" || c === "[" || c === "(") {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === "}" || c === "]" || c === ")") depth--;
  }
  return deepest;
}

/** The rejection handler armor calls: throw our own error (armor's says "Syntax Error: …"). */
const reject =
  (limit: string, describe: (found: string) => string) =>
  (_context: unknown, error: GraphQLError): never => {
    const found = /found (\d+)/.exec(error.message)?.[1] ?? "more";
    throw queryLimitError(limit, describe(found));
  };

interface LimitContext {
  auth?: AuthInfo | null;
  params?: { variables?: Record<string, unknown> | null; operationName?: string | null };
}

/** The limits as envelop plugins, in the order they apply (parse, then validation). */
export function queryLimitPlugins(limits: QueryLimits = DEFAULT_QUERY_LIMITS): Plugin[] {
  const costRule = (context: LimitContext): ValidationRule =>
    createComplexityRule({
      maximumComplexity: limits.maxCost,
      variables: context.params?.variables ?? {},
      ...(context.params?.operationName ? { operationName: context.params.operationName } : {}),
      estimators: [estimateCost],
      maxQueryNodes: 20_000,
      createError: (max, actual) =>
        queryLimitError(
          "cost",
          `Query cost limit exceeded: the query costs ${actual}, at most ${max} (a page of \`first\` items costs its fields times \`first\`; ask for fewer fields or a smaller page).`,
        ),
    });

  const limitRules: Plugin<LimitContext> = {
    onValidate({ addValidationRule, context }) {
      if (!context.auth) addValidationRule(introspectionNeedsToken);
      addValidationRule(tolerant(costRule(context)));
    },
  };

  const nesting: Plugin = {
    onParse({ params }) {
      const source = typeof params.source === "string" ? params.source : params.source.body;
      const found = documentNesting(source);
      if (found > MAX_DOCUMENT_NESTING) {
        throw queryLimitError(
          "depth",
          `Query depth limit exceeded: brackets nest at most ${MAX_DOCUMENT_NESTING} deep in a document (found ${found}).`,
        );
      }
    },
  };

  return [
    nesting,
    maxTokensPlugin({
      n: limits.maxTokens,
      onReject: [
        reject("tokens", () => `Query token limit exceeded: a document has at most ${limits.maxTokens} tokens.`),
      ],
    }),
    maxDepthPlugin({
      n: limits.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: false,
      onReject: [
        reject(
          "depth",
          (found) => `Query depth limit exceeded: fields nest at most ${limits.maxDepth} deep (found ${found}).`,
        ),
      ],
    }),
    maxAliasesPlugin({
      n: limits.maxAliases,
      onReject: [
        reject(
          "aliases",
          (found) => `Query alias limit exceeded: at most ${limits.maxAliases} aliases per operation (found ${found}).`,
        ),
      ],
    }),
    maxDirectivesPlugin({
      n: limits.maxDirectives,
      onReject: [
        reject(
          "directives",
          (found) =>
            `Query directive limit exceeded: at most ${limits.maxDirectives} directives per operation (found ${found}).`,
        ),
      ],
    }),
    limitRules as Plugin,
    blockFieldSuggestionsPlugin({ mask: "" }),
  ];
}

/**
 * The time budget: a query's execution is answered by `budgetMs` at the latest, with RATE_LIMITED; what it
 * started stops at the next fold (the as-of loader checks the same deadline). Mutations are not cut
 * short — a mutation that answered an error must have written nothing — and are bounded by their own
 * waits (a release start's and an action's); subscriptions are long-lived by design.
 */
export function timeBudgetPlugin(budgetMs: number): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== "query") return;
      setExecuteFn(async (executeArgs) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const overBudget = new Promise<ExecutionResult>((resolve) => {
          timer = setTimeout(() => {
            const error = timeBudgetError(budgetMs);
            resolve({ errors: [new GraphQLError(error.message, { extensions: { code: error.code } })] });
          }, budgetMs);
        });
        try {
          return await Promise.race([executeFn(executeArgs) as Promise<ExecutionResult>, overBudget]);
        } finally {
          clearTimeout(timer);
        }
      });
    },
  };
}

/** The error a request gets when it runs past its time budget. */
export const timeBudgetError = (budgetMs: number): DomainError =>
  new DomainError(
    "RATE_LIMITED",
    `The request exceeded its time budget of ${budgetMs / 1000} s and was stopped: ask for less (fewer as-of points, smaller pages).`,
  );
