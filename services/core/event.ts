/** A domain event: a past-tense type and its data. Metadata (actor, time, ids) travels beside it in the store. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
}
