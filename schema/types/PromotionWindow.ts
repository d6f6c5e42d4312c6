import { type PromotionWindow, WEEKDAYS } from "../../services/pipeline/windows.ts";
import { builder } from "../builder.ts";

export const WeekdayEnum = builder.enumType("Weekday", { values: WEEKDAYS });

export const PromotionWindowRef = builder.objectRef<PromotionWindow>("PromotionWindow");

PromotionWindowRef.implement({
  description:
    "A weekly window in which a pipeline's phases may roll out, in an IANA time zone (daylight-saving changes respected); an end at or before the start runs past midnight.",
  fields: (t) => ({
    days: t.field({ type: [WeekdayEnum], resolve: (window) => window.days }),
    start: t.exposeString("start", { description: "Local time HH:MM (24-hour)." }),
    end: t.exposeString("end", { description: "Local time HH:MM, or 24:00." }),
    timeZone: t.exposeString("timeZone"),
  }),
});

export const PromotionWindowInput = builder.inputType("PromotionWindowInput", {
  description:
    "Weekly windows in which a pipeline's phases may roll out, in an IANA time zone; e.g. MON-FRI 09:00-16:00.",
  fields: (t) => ({
    days: t.field({ type: [WeekdayEnum], required: true }),
    start: t.string({ required: true }),
    end: t.string({ required: true }),
    timeZone: t.string({ required: true }),
  }),
});
