// The connection strings the README documents for EventStoreDB/KurrentDB clusters and TLS, through the
// adapter: each is parsed by the real client (which reads the CA and client certificate files it names)
// and then served by the fake server, so a string the real client refuses fails here too.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConnectionString } from "@eventstore/db-client/dist/Client/parseConnectionString.js";
import { afterAll, describe, expect, it } from "vitest";
import { clientFromConnectionString, normalizeConnectionString } from "./connection-string.ts";
import { createEsdbEventStore } from "./esdb-event-store.ts";
import { FakeEsdbServer, fakeClientFactory } from "./testing/fake-esdb-client.ts";

const dir = mkdtempSync(join(tmpdir(), "esdb-tls-"));
// Real PEM files: the client reads the CA and parses the client certificate's key when it is created.
const ca = join(dir, "ca.crt");
const userCert = join(dir, "user.crt");
const userKey = join(dir, "user.key");
for (const [cert, key, name] of [
  [ca, join(dir, "ca.key"), "esdb-ca"],
  [userCert, userKey, "admin"],
] as const) {
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
    ]),
    { stdio: "ignore" },
  );
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const event = (id: string) => ({
  id,
  type: "Pinged",
  data: { id },
  metadata: {
    actor: "system",
    occurredAt: "2026-01-01T00:00:00.000Z",
    correlationId: id,
    causationId: null,
    schemaVersion: 1,
    projectId: null,
  },
});

async function roundTrip(connectionString: string) {
  const server = new FakeEsdbServer();
  const factory = fakeClientFactory(server, clientFromConnectionString, parseConnectionString);
  const store = createEsdbEventStore({ connectionString, createClient: factory });
  try {
    await store.append("ping-1", [event("0b5e2f0c-5a55-4d3e-9d34-1b3c1f0a0001")], "no_stream");
    const read = await store.readStream("ping-1");
    expect(read.map((recorded) => recorded.type)).toEqual(["Pinged"]);
  } finally {
    await store.close();
  }
  expect(factory.parsed).toHaveLength(1);
  return factory.parsed[0];
}

describe("EventStoreDB / KurrentDB connection strings", () => {
  it("a single node without TLS (local, Compose)", async () => {
    expect(await roundTrip("esdb://localhost:2113?tls=false")).toMatchObject({
      dnsDiscover: false,
      hosts: ["localhost:2113"],
      tls: false,
    });
  });

  it("a three-node cluster over TLS with a private CA, writing to the leader", async () => {
    const parsed = await roundTrip(
      `esdb://admin:changeit@node1.esdb.internal:2113,node2.esdb.internal:2113,node3.esdb.internal:2113?tls=true&tlsCAFile=${ca}&nodePreference=leader`,
    );
    expect(parsed).toMatchObject({
      dnsDiscover: false,
      hosts: ["node1.esdb.internal:2113", "node2.esdb.internal:2113", "node3.esdb.internal:2113"],
      tls: true,
      tlsVerifyCert: true,
      tlsCAFile: ca,
      username: "admin",
      nodePreference: "leader",
    });
  });

  it("a cluster discovered through DNS (gossip), TLS with the system's CAs", async () => {
    expect(
      await roundTrip("esdb+discover://admin:changeit@cluster.esdb.internal:2113?tls=true&nodePreference=leader"),
    ).toMatchObject({ dnsDiscover: true, hosts: ["cluster.esdb.internal:2113"], tls: true, tlsCAFile: undefined });
  });

  it("a client certificate instead of a user and password", async () => {
    expect(
      await roundTrip(
        `esdb://node1:2113,node2:2113,node3:2113?tls=true&tlsCAFile=${ca}&userCertFile=${userCert}&userKeyFile=${userKey}`,
      ),
    ).toMatchObject({ hosts: ["node1:2113", "node2:2113", "node3:2113"], userCertFile: userCert, username: undefined });
  });

  it("KurrentDB's kurrentdb:// and kurrentdb+discover:// schemes", async () => {
    expect(normalizeConnectionString(" kurrentdb://node1:2113?tls=false ")).toBe("esdb://node1:2113?tls=false");
    expect(normalizeConnectionString("kurrentdb+discover://cluster:2113")).toBe("esdb+discover://cluster:2113");
    expect(await roundTrip(`kurrentdb://node1:2113,node2:2113,node3:2113?tls=true&tlsCAFile=${ca}`)).toMatchObject({
      connectionString: `esdb://node1:2113,node2:2113,node3:2113?tls=true&tlsCAFile=${ca}`,
      hosts: ["node1:2113", "node2:2113", "node3:2113"],
    });
    expect(await roundTrip("kurrentdb+discover://cluster:2113?tls=true")).toMatchObject({ dnsDiscover: true });
  });

  it.each([
    ["an unknown scheme", "https://node1:2113", "esdb:// or esdb+discover://"],
    ["a value that is not a boolean", "esdb://node1:2113?tls=maybe", 'Unexpected "maybe"'],
    [
      "a CA file that cannot be read",
      `esdb://node1:2113?tls=true&tlsCAFile=${join(dir, "missing.crt")}`,
      "File was not found",
    ],
    ["a certificate without its key", `esdb://node1:2113?tls=true&userCertFile=${userCert}`, "userKeyFile"],
  ])("refuses %s at start, with the reason and the password hidden", (_case, connectionString, reason) => {
    const withPassword = connectionString.replace("//", "//admin:hunter2@");
    let caught: unknown;
    try {
      createEsdbEventStore({ connectionString: withPassword });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "VALIDATION" });
    const message = (caught as Error).message;
    expect(message).toContain(reason);
    expect(message).not.toContain("hunter2");
  });
});
