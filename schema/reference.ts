// The API reference (docs/api.md), generated from the schema's descriptions by `npm run schema:print` and
// compared by `npm run schema:check`, like schema.graphql: one source, the Pothos types' descriptions.

import {
  type GraphQLArgument,
  type GraphQLEnumType,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputObjectType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
} from "graphql";

const BUILT_IN = new Set(["String", "Int", "Float", "Boolean", "ID"]);

const userTypes = (schema: GraphQLSchema): GraphQLNamedType[] =>
  Object.values(schema.getTypeMap()).filter((type) => !type.name.startsWith("__") && !BUILT_IN.has(type.name));

/**
 * Every type, field, argument, input field and enum value without a description ("Type.field(arg)"). An
 * enum value may instead be explained in its enum's description, which then names it.
 */
export function missingDescriptions(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const check = (what: string, description: string | null | undefined): void => {
    if (description === null || description === undefined || description.trim() === "") missing.push(what);
  };
  for (const type of userTypes(schema)) {
    check(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(`${type.name}.${field.name}`, field.description);
        if ("args" in field)
          for (const arg of field.args) check(`${type.name}.${field.name}(${arg.name})`, arg.description);
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues()) {
        const named = new RegExp(`\\b${value.name}\\b`).test(type.description ?? "");
        if (!named) check(`${type.name}.${value.name}`, value.description);
      }
    }
  }
  return missing;
}

const anchor = (name: string): string => name.toLowerCase().replace(/[^a-z0-9_-]/g, "");

/** `[Release!]!` with the named type linked to its section. */
function typeRef(type: GraphQLType): string {
  if (isNonNullType(type)) return `${typeRef(type.ofType)}!`;
  if (isListType(type)) return `[${typeRef(type.ofType)}]`;
  const named = getNamedType(type);
  return BUILT_IN.has(named.name) ? `\`${named.name}\`` : `[\`${named.name}\`](#${anchor(named.name)})`;
}

/** A description as one table cell. */
const cell = (text: string | null | undefined): string =>
  (text ?? "")
    .trim()
    .replace(/\r?\n\s*\n/g, "<br><br>")
    .replace(/\s*\n\s*/g, " ")
    .replace(/\|/g, "\\|");

const paragraph = (text: string | null | undefined): string => (text ?? "").trim();

const defaultOf = (arg: GraphQLArgument | GraphQLInputField): string =>
  arg.defaultValue === undefined ? "" : ` (default \`${JSON.stringify(arg.defaultValue)}\`)`;

function argumentsTable(args: readonly GraphQLArgument[]): string[] {
  if (args.length === 0) return [];
  return [
    "",
    "| Argument | Type | Description |",
    "| --- | --- | --- |",
    ...args.map((arg) => `| \`${arg.name}\` | ${typeRef(arg.type)} | ${cell(arg.description)}${defaultOf(arg)} |`),
  ];
}

function rootSection(root: GraphQLObjectType | null | undefined, title: string, intro: string): string[] {
  if (!root) return [];
  const out = [`## ${title}`, "", intro, ""];
  for (const field of Object.values(root.getFields()) as GraphQLField<unknown, unknown>[]) {
    out.push(`### ${root.name}.${field.name}`, "", paragraph(field.description), "");
    const args = field.args.map((arg) => `${arg.name}: ${String(arg.type)}`).join(", ");
    out.push("```graphql", `${field.name}${args === "" ? "" : `(${args})`}: ${String(field.type)}`, "```");
    out.push(...argumentsTable(field.args), "", `Returns ${typeRef(field.type)}.`, "");
  }
  return out;
}

function objectSection(type: GraphQLObjectType): string[] {
  const out = [
    `### ${type.name}`,
    "",
    paragraph(type.description),
    "",
    "| Field | Type | Description |",
    "| --- | --- | --- |",
  ];
  for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
    const args = field.args.length === 0 ? "" : `(${field.args.map((arg) => arg.name).join(", ")})`;
    const argNotes = field.args.map(
      (arg) => `<br>\`${arg.name}\`: ${typeRef(arg.type)} — ${cell(arg.description)}${defaultOf(arg)}`,
    );
    out.push(`| \`${field.name}${args}\` | ${typeRef(field.type)} | ${cell(field.description)}${argNotes.join("")} |`);
  }
  return [...out, ""];
}

function inputSection(type: GraphQLInputObjectType): string[] {
  const out = [
    `### ${type.name}`,
    "",
    paragraph(type.description),
    "",
    "| Field | Type | Description |",
    "| --- | --- | --- |",
  ];
  for (const field of Object.values(type.getFields())) {
    out.push(`| \`${field.name}\` | ${typeRef(field.type)} | ${cell(field.description)}${defaultOf(field)} |`);
  }
  return [...out, ""];
}

function enumSection(type: GraphQLEnumType): string[] {
  const values = type.getValues();
  const out = [`### ${type.name}`, "", paragraph(type.description), ""];
  if (values.every((value) => !value.description)) {
    return [...out, `Values: ${values.map((value) => `\`${value.name}\``).join(" · ")}`, ""];
  }
  out.push("| Value | Meaning |", "| --- | --- |");
  for (const value of values) out.push(`| \`${value.name}\` | ${cell(value.description)} |`);
  return [...out, ""];
}

/** docs/api.md: the roots' fields first (what a client calls), then every type, in the schema's order. */
export function renderReference(schema: GraphQLSchema): string {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]);
  const types = userTypes(schema).filter((type) => !roots.has(type as GraphQLObjectType));
  const objects = types.filter(isObjectType);
  const inputs = types.filter(isInputObjectType);
  const enums = types.filter(isEnumType);
  const unions = types.filter(isUnionType);
  const scalars = types.filter(isScalarType);
  const list = (named: readonly GraphQLNamedType[]): string =>
    named.map((t) => `[${t.name}](#${anchor(t.name)})`).join(" · ");
  const out = [
    "<!-- Generated from the schema by `npm run schema:print` (schema/reference.ts); `npm run schema:check` fails when it is stale. Do not edit by hand: change the descriptions in schema/types/*.ts. -->",
    "",
    "# API reference",
    "",
    "The service's whole GraphQL API: `POST /graphql` (HTTP), and the same path over WebSocket",
    "(`graphql-transport-ws`) or Server-Sent Events for subscriptions. Every request carries",
    '`Authorization: Bearer <secret>` (over WebSocket: `connectionParams: { authorization: "Bearer <secret>" }`).',
    "Errors carry `extensions.code`, one of [ErrorCode](#errorcode). The README's quickstart walks through a",
    "whole release; the printed schema is [schema/schema.graphql](../schema/schema.graphql); the product",
    "rules are in [docs/product.md](product.md).",
    "",
    "- [Queries](#queries) · [Mutations](#mutations) · [Subscriptions](#subscriptions)",
    `- Objects: ${list(objects)}`,
    `- Inputs: ${list(inputs)}`,
    `- Enums: ${list(enums)}`,
    ...(unions.length > 0 ? [`- Unions: ${list(unions)}`] : []),
    `- Scalars: ${list(scalars)}`,
    "",
    ...rootSection(
      schema.getQueryType(),
      "Queries",
      "Reads. A token bound to a project sees only that project: other projects' entities answer as missing (null, or NOT_FOUND).",
    ),
    ...rootSection(
      schema.getMutationType(),
      "Mutations",
      "Writes. A mutation that answers an error wrote nothing; one that answers success has written.",
    ),
    ...rootSection(
      schema.getSubscriptionType(),
      "Subscriptions",
      "Live updates over graphql-ws (`ws://…/graphql`, protocol `graphql-transport-ws`) or SSE (`Accept: text/event-stream`).",
    ),
    "## Objects",
    "",
    ...objects.flatMap(objectSection),
    "## Inputs",
    "",
    ...inputs.flatMap(inputSection),
    "## Enums",
    "",
    ...enums.flatMap(enumSection),
    ...(unions.length > 0
      ? [
          "## Unions",
          "",
          ...unions.flatMap((union) => [
            `### ${union.name}`,
            "",
            paragraph(union.description),
            "",
            `One of: ${union
              .getTypes()
              .map((member) => typeRef(member))
              .join(", ")}.`,
            "",
          ]),
        ]
      : []),
    "## Scalars",
    "",
    ...scalars.flatMap((scalar) => [`### ${scalar.name}`, "", paragraph(scalar.description), ""]),
  ];
  return `${out
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trimEnd()}\n`;
}
