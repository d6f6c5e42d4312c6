// One mutation field per request (docs/decisions/0034). GraphQL runs a document's mutation fields one
// after another, each its own command with its own events: when the second is refused, the first has
// written, and a non-null field's error nulls the whole answer — a client then sees `data: null` and an
// error for a request that changed the state. The contract's rule is "a mutation that answered an error
// wrote nothing", so a document whose mutation selects more than one field (aliases, fragments and inline
// fragments counted; `__typename` is not) is refused as VALIDATION before anything runs.

import {
  type ASTVisitor,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";
import type { Plugin } from "graphql-yoga";

function mutationFields(
  selectionSet: SelectionSetNode,
  context: ValidationContext,
  visited: Set<string>,
  into: string[],
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== "__typename") into.push(selection.alias?.value ?? selection.name.value);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      mutationFields(selection.selectionSet, context, visited, into);
    } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const name = selection.name.value;
      if (visited.has(name)) continue;
      visited.add(name);
      const fragment = context.getFragment(name);
      if (fragment) mutationFields(fragment.selectionSet, context, visited, into);
    }
  }
}

export function OneMutationFieldRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node: OperationDefinitionNode) {
      if (node.operation !== "mutation") return;
      const fields: string[] = [];
      mutationFields(node.selectionSet, context, new Set(), fields);
      if (fields.length > 1) {
        context.reportError(
          new GraphQLError(
            `A request may hold one mutation field; this one has ${fields.length} (${fields.join(", ")}). Send each mutation as its own request: nothing was done.`,
            { nodes: [node] },
          ),
        );
      }
    },
  };
}

/** Adds OneMutationFieldRule to Yoga's validation. */
export const oneMutationFieldPlugin = (): Plugin => ({
  onValidate({ addValidationRule }) {
    addValidationRule(OneMutationFieldRule);
  },
});
