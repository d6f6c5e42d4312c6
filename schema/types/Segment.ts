import type { Segment } from "../../services/core/model.ts";
import { builder } from "../builder.ts";
import { SegmentOperatorEnum } from "./enums.ts";

export const SegmentRef = builder.objectRef<Segment>("Segment");

SegmentRef.implement({
  description: "A named condition on a unit's attributes, e.g. region IN [us-west]. Phases target segments.",
  fields: (t) => ({
    key: t.exposeString("key", { description: "The name phases target it by, e.g. us-west." }),
    attribute: t.exposeString("attribute", { description: "The unit attribute it tests, e.g. region." }),
    operator: t.field({
      type: SegmentOperatorEnum,
      description: "How the attribute is compared with `values`.",
      resolve: (segment) => segment.operator,
    }),
    values: t.exposeStringList("values", { description: "The values compared with the attribute (as strings)." }),
  }),
});

export const SegmentInput = builder.inputType("SegmentInput", {
  description: "A segment of a new project: units whose `attribute` is IN (or NOT_IN) `values`.",
  fields: (t) => ({
    key: t.string({ required: true, description: "Unique in the project; phases target the segment by it." }),
    attribute: t.string({ required: true, description: "The unit attribute to test, e.g. region." }),
    operator: t.field({ type: SegmentOperatorEnum, required: true, description: "IN or NOT_IN." }),
    values: t.stringList({ required: true, description: 'The values to compare with, e.g. ["us-west"].' }),
  }),
});
