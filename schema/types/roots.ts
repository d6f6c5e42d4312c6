// The root types. Their fields are added by the file of the type each field returns.

import { builder } from "../builder.ts";

builder.queryType({
  description: "Reads: projects, pipelines, features, releases, the audit log and its replay, evaluation.",
});
builder.mutationType({
  description: "Writes. A mutation that answers an error wrote nothing; one that answers success has written.",
});
builder.subscriptionType({
  description: "Live updates over graphql-ws (WebSocket, `graphql-transport-ws`) or Server-Sent Events at /graphql.",
});
