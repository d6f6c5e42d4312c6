// Typed documents without codegen (decision 0018): the query text branded with the types of its result
// and variables. No DOM here, so test/console/documents.test.ts can validate every document in Node.

/** A GraphQL document with the types of its result and variables (a branded string). */
export type Doc<TData, TVars = Record<string, never>> = string & { readonly __types?: [TData, TVars] };

export const doc = <TData, TVars = Record<string, never>>(source: string): Doc<TData, TVars> =>
  source as Doc<TData, TVars>;
