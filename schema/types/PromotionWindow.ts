import { type PromotionWindow, WEEKDAYS } from "../../services/pipeline/windows.ts";
import { builder } from "../builder.ts";

export const WeekdayEnum = builder.enumType("Weekday", {
  description: "A day of the week, in a window's time zone: MON, TUE, WED, THU, FRI, SAT, SUN.",
  values: WEEKDAYS,
});

export const PromotionWindowRef = builder.objectRef<PromotionWindow>("PromotionWindow");

PromotionWindowRef.implement({
  description:
    "A weekly window in which a pipeline's phases may roll out, in an IANA time zone (daylight-saving changes respected); an end at or before the start runs past midnight.",
  fields: (t) => ({
    days: t.field({
      type: [WeekdayEnum],
      description: "The days it opens on (in week order).",
      resolve: (window) => window.days,
    }),
    start: t.exposeString("start", { description: "Local time HH:MM (24-hour)." }),
    end: t.exposeString("end", { description: "Local time HH:MM, or 24:00." }),
    timeZone: t.exposeString("timeZone", { description: "An IANA time zone, e.g. Europe/Berlin." }),
  }),
});

export const PromotionWindowInput = builder.inputType("PromotionWindowInput", {
  description:
    "Weekly windows in which a pipeline's phases may roll out, in an IANA time zone; e.g. MON-FRI 09:00-16:00.",
  fields: (t) => ({
    days: t.field({ type: [WeekdayEnum], required: true, description: "The days it opens on (at least one)." }),
    start: t.string({ required: true, description: "Local time HH:MM (24-hour) it opens at." }),
    end: t.string({
      required: true,
      description: "Local time HH:MM (or 24:00) it closes at; at or before `start`, it closes the next day.",
    }),
    timeZone: t.string({ required: true, description: "An IANA time zone, e.g. Europe/Berlin." }),
  }),
});
