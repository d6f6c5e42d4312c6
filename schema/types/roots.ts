// The root types. Their fields are added by the file of the type each field returns.

import { builder } from "../builder.ts";

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
