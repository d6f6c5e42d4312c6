// The bootstrap ADMIN token and bearer parsing, on an embedded store (no Temporal needed).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { authenticate, bearerSecret, ensureAdminToken, secretFromConnectionParams } from "../../services/api/auth.ts";
import { hashSecret } from "../../services/core/ids.ts";
import { createEventStore } from "../../services/event-store/create-event-store.ts";
import type { EventStore } from "../../services/event-store/port.ts";
import { createReadModels, type ReadModels } from "../../services/projections/read-models.ts";
import { type ProjectionRunner, startProjections } from "../../services/projections/runner.ts";

interface Opened {
  store: EventStore;
  readModels: ReadModels;
  runner: ProjectionRunner;
}

const dirs: string[] = [];
const opened: Opened[] = [];

async function open(dataDir: string): Promise<Opened> {
  const store = await createEventStore({ dataDir, connectionString: "" });
  const readModels = createReadModels();
  const runner = startProjections({ store, readModels });
  await runner.ready;
  const handle = { store, readModels, runner };
  opened.push(handle);
  return handle;
}

async function close(handle: Opened): Promise<void> {
  await handle.runner.close();
  await handle.store.close();
  opened.splice(opened.indexOf(handle), 1);
}

const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "api-auth-"));
  dirs.push(dir);
  return dir;
};

afterEach(async () => {
  for (const handle of [...opened]) await close(handle);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("the bootstrap ADMIN token", () => {
  it("is generated and printed once on a fresh store, and still works after a restart", async () => {
    const dir = freshDir();
    const first = await open(dir);
    const printed: string[] = [];
    const result = await ensureAdminToken({ ...first, print: (line) => printed.push(line) });
    expect(result.created).toBe(true);
    expect(printed).toEqual([`ADMIN token (shown once): ${result.secret}`]);
    const secret = result.secret ?? "";
    expect(authenticate(first.readModels, secret)).toMatchObject({ name: "admin", role: "ADMIN", projectId: null });
    await close(first);

    const restarted = await open(dir);
    const again = await ensureAdminToken({ ...restarted, print: (line) => printed.push(line) });
    expect(again).toEqual({ created: false, secret: null });
    expect(printed).toHaveLength(1);
    expect(authenticate(restarted.readModels, secret)?.role).toBe("ADMIN");
  });

  it("takes ADMIN_TOKEN when set, and adds it later to a store that has other tokens", async () => {
    const dir = freshDir();
    const handle = await open(dir);
    const printed: string[] = [];
    await ensureAdminToken({ ...handle, print: (line) => printed.push(line) });
    const given = "operator-chosen-secret-0123456789";
    const added = await ensureAdminToken({ ...handle, adminToken: given, print: (line) => printed.push(line) });
    expect(added).toEqual({ created: true, secret: null });
    expect(printed).toHaveLength(1);
    // "admin" is the generated token's name, and names are unique: this one is named after its hash.
    expect(authenticate(handle.readModels, given)).toMatchObject({
      role: "ADMIN",
      name: `admin-${hashSecret(given).slice(0, 12)}`,
    });
    // Only the hash is stored.
    const stored = JSON.stringify((await handle.store.readAll()).map((event) => event.data));
    expect(stored).not.toContain(given);
    expect(stored).toContain(hashSecret(given));
    // Again: nothing new.
    expect(await ensureAdminToken({ ...handle, adminToken: given })).toEqual({ created: false, secret: null });
    expect(handle.readModels.tokenCount()).toBe(2);
  });

  it("is created once when two API processes start together on one store", async () => {
    const dir = freshDir();
    const a = await open(dir);
    const b = await open(dir);
    const printed: string[] = [];
    const results = await Promise.all([
      ensureAdminToken({ ...a, print: (line) => printed.push(line) }),
      ensureAdminToken({ ...b, print: (line) => printed.push(line) }),
    ]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(printed).toHaveLength(1);
    const heads = (await a.store.readAll()).filter((event) => event.type === "ApiTokenCreated");
    expect(heads).toHaveLength(1);
  });
});

describe("the ADMIN_TOKEN token", () => {
  it("is named admin on a fresh store, and created once by processes starting together", async () => {
    const dir = freshDir();
    const a = await open(dir);
    const b = await open(dir);
    const given = "operator-chosen-secret-abcdef0123";
    const results = await Promise.all([
      ensureAdminToken({ ...a, adminToken: given }),
      ensureAdminToken({ ...b, adminToken: given }),
    ]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(authenticate(a.readModels, given)).toMatchObject({ name: "admin", role: "ADMIN" });
    expect((await a.store.readAll()).filter((event) => event.type === "ApiTokenCreated")).toHaveLength(1);
  });
});

describe("bearer secrets", () => {
  it("come from the Authorization header or the graphql-ws connection params", () => {
    expect(bearerSecret("Bearer rp_abc")).toBe("rp_abc");
    expect(bearerSecret("bearer   rp_abc ")).toBe("rp_abc");
    expect(bearerSecret("Basic abc")).toBeNull();
    expect(bearerSecret(null)).toBeNull();
    expect(secretFromConnectionParams({ authorization: "Bearer rp_x" })).toBe("rp_x");
    expect(secretFromConnectionParams({ token: "rp_y" })).toBe("rp_y");
    expect(secretFromConnectionParams({})).toBeNull();
    expect(secretFromConnectionParams(undefined)).toBeNull();
  });
});
