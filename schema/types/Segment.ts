import type { Segment } from "../../services/core/model.ts";
import { builder } from "../builder.ts";
import { SegmentOperatorEnum } from "./enums.ts";

export const SegmentRef = builder.objectRef<Segment>("Segment");

SegmentRef.implement({
  description: "A named condition on a unit's attributes, e.g. region IN [us-west]. Phases target segments.",
  fields: (t) => ({
    key: t.exposeString("key"),
    attribute: t.exposeString("attribute"),
    operator: t.field({ type: SegmentOperatorEnum, resolve: (segment) => segment.operator }),
    values: t.exposeStringList("values"),
  }),
});

export const SegmentInput = builder.inputType("SegmentInput", {
  fields: (t) => ({
    key: t.string({ required: true }),
    attribute: t.string({ required: true }),
    operator: t.field({ type: SegmentOperatorEnum, required: true }),
    values: t.stringList({ required: true }),
  }),
});
