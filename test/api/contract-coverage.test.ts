// Every element of the public contract (schema/contract/*.graphql, the repository's copy) exists in the
// schema the code builds, with the same type: types and their kinds, fields with their types, arguments
// with types and defaults, enum values, input fields with types and defaults, union members, scalars.
// Additions are allowed; a rename, a removal or a changed type fails here.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  astFromValue,
  buildSchema,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
  print,
} from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../schema/index.ts";

const CONTRACT_DIR = fileURLToPath(new URL("../../schema/contract/", import.meta.url));
/** The contract and the sections of its additions built so far, in name order, as one document. */
const contractSource = readdirSync(CONTRACT_DIR)
  .filter((file) => file.endsWith(".graphql"))
  .sort()
  .map((file) => readFileSync(join(CONTRACT_DIR, file), "utf8"))
  .join("\n");

const kindOf = (type: GraphQLNamedType): string =>
  isObjectType(type)
    ? "object"
    : isInputObjectType(type)
      ? "input"
      : isEnumType(type)
        ? "enum"
        : isUnionType(type)
          ? "union"
          : isInterfaceType(type)
            ? "interface"
            : isScalarType(type)
              ? "scalar"
              : "unknown";

const defaultOf = (arg: GraphQLArgument | GraphQLInputField): string | null => {
  if (arg.defaultValue === undefined) return null;
  const ast = astFromValue(arg.defaultValue, arg.type);
  return ast ? print(ast) : null;
};

/** Every difference between what the contract declares and what `actual` has. */
function contractGaps(contract: GraphQLSchema, actual: GraphQLSchema): string[] {
  const gaps: string[] = [];
  for (const expected of Object.values(contract.getTypeMap())) {
    if (expected.name.startsWith("__")) continue;
    const found = actual.getType(expected.name);
    if (!found) {
      gaps.push(`type ${expected.name} is missing`);
      continue;
    }
    if (kindOf(found) !== kindOf(expected)) {
      gaps.push(`type ${expected.name} is a ${kindOf(found)}, the contract says ${kindOf(expected)}`);
      continue;
    }
    if ((isObjectType(expected) || isInterfaceType(expected)) && (isObjectType(found) || isInterfaceType(found))) {
      const fields = found.getFields();
      for (const field of Object.values(expected.getFields()) as GraphQLField<unknown, unknown>[]) {
        const at = `${expected.name}.${field.name}`;
        const actualField = fields[field.name];
        if (!actualField) {
          gaps.push(`field ${at} is missing`);
          continue;
        }
        if (String(actualField.type) !== String(field.type)) {
          gaps.push(`field ${at} is ${String(actualField.type)}, the contract says ${String(field.type)}`);
        }
        for (const arg of field.args) {
          const actualArg = actualField.args.find((a) => a.name === arg.name);
          if (!actualArg) {
            gaps.push(`argument ${at}(${arg.name}) is missing`);
            continue;
          }
          if (String(actualArg.type) !== String(arg.type)) {
            gaps.push(
              `argument ${at}(${arg.name}) is ${String(actualArg.type)}, the contract says ${String(arg.type)}`,
            );
          }
          if (defaultOf(actualArg) !== defaultOf(arg)) {
            gaps.push(
              `argument ${at}(${arg.name}) defaults to ${defaultOf(actualArg)}, the contract says ${defaultOf(arg)}`,
            );
          }
        }
        for (const extra of actualField.args) {
          if (
            !field.args.some((a) => a.name === extra.name) &&
            String(extra.type).endsWith("!") &&
            extra.defaultValue === undefined
          ) {
            gaps.push(`argument ${at}(${extra.name}) is added as required: only optional arguments may be added`);
          }
        }
      }
    }
    if (isInputObjectType(expected) && isInputObjectType(found)) {
      const fields = found.getFields();
      for (const field of Object.values(expected.getFields())) {
        const at = `${expected.name}.${field.name}`;
        const actualField = fields[field.name];
        if (!actualField) {
          gaps.push(`input field ${at} is missing`);
          continue;
        }
        if (String(actualField.type) !== String(field.type)) {
          gaps.push(`input field ${at} is ${String(actualField.type)}, the contract says ${String(field.type)}`);
        }
        if (defaultOf(actualField) !== defaultOf(field)) {
          gaps.push(`input field ${at} defaults to ${defaultOf(actualField)}, the contract says ${defaultOf(field)}`);
        }
      }
    }
    if (isEnumType(expected) && isEnumType(found)) {
      const values = new Set(found.getValues().map((v) => v.name));
      for (const value of expected.getValues()) {
        if (!values.has(value.name)) gaps.push(`enum value ${expected.name}.${value.name} is missing`);
      }
    }
    if (isUnionType(expected) && isUnionType(found)) {
      const members = new Set(found.getTypes().map((t) => t.name));
      for (const member of expected.getTypes()) {
        if (!members.has(member.name)) gaps.push(`union ${expected.name} lacks member ${member.name}`);
      }
    }
  }
  for (const root of ["Query", "Mutation", "Subscription"] as const) {
    const expected =
      root === "Query"
        ? contract.getQueryType()
        : root === "Mutation"
          ? contract.getMutationType()
          : contract.getSubscriptionType();
    const found =
      root === "Query"
        ? actual.getQueryType()
        : root === "Mutation"
          ? actual.getMutationType()
          : actual.getSubscriptionType();
    if (expected && found?.name !== expected.name) gaps.push(`the ${root} root type is ${found?.name ?? "missing"}`);
  }
  return gaps;
}

const contract = buildSchema(contractSource);

describe("the public contract", () => {
  it("is fully implemented by the schema, with the same types, arguments, defaults and values", () => {
    expect(contractGaps(contract, schema)).toEqual([]);
  });

  it("covers every kind of element it checks (so an empty gap list means something)", () => {
    const types = Object.values(contract.getTypeMap()).filter((t) => !t.name.startsWith("__"));
    expect(types.filter(isObjectType).length).toBeGreaterThan(20);
    expect(types.filter(isInputObjectType).length).toBeGreaterThan(10);
    expect(types.filter(isEnumType).length).toBeGreaterThan(10);
    expect(types.filter(isUnionType).map((t) => t.name)).toEqual(["FeatureUpdateResult"]);
  });

  it("reports a missing field, a changed type, a changed default, a missing enum value and a missing union member", () => {
    const broken = buildSchema(/* GraphQL */ `
      type Query { a: Int, b: String!, c(first: Int = 10): Int }
      enum E { X }
      union U = Query
      input I { n: Int = 1 }
    `);
    const wanted = buildSchema(/* GraphQL */ `
      type Query { a: Int, b: String, c(first: Int = 50): Int, d: Int }
      enum E { X Y }
      type T { t: Int }
      union U = Query | T
      input I { n: Int = 2 }
    `);
    expect(contractGaps(wanted, broken)).toEqual([
      "field Query.b is String!, the contract says String",
      "argument Query.c(first) defaults to 10, the contract says 50",
      "field Query.d is missing",
      "enum value E.Y is missing",
      "type T is missing",
      "union U lacks member T",
      "input field I.n defaults to 1, the contract says 2",
    ]);
  });
});
