// The bootstrap ADMIN token and bearer parsing, on an embedded store (no Temporal needed).

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ADMIN_TOKEN_FILE,
  authenticate,
  bearerSecret,
  ensureAdminToken,
  secretFromConnectionParams,
} from "../../services/api/auth.ts";
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
  it("is generated once on a fresh store: a banner on the terminal and a 0600 file under DATA_DIR; it still works after a restart", async () => {
    const dir = freshDir();
    const first = await open(dir);
    const printed: string[] = [];
    const result = await ensureAdminToken({ ...first, dataDir: dir, print: (banner) => printed.push(banner) });
    expect(result).toMatchObject({ created: true, rotated: false, file: join(dir, ADMIN_TOKEN_FILE) });
    const secret = result.secret ?? "";
    expect(printed).toHaveLength(1);
    expect(printed[0]?.split("\n")).toContain(`ADMIN token (shown once): ${secret}`);
    expect(printed[0]).toContain(`export RP_TOKEN="$(cat ${join(dir, ADMIN_TOKEN_FILE)})"`);
    expect(readFileSync(join(dir, ADMIN_TOKEN_FILE), "utf8")).toBe(`${secret}\n`);
    expect(statSync(join(dir, ADMIN_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(authenticate(first.readModels, secret)).toMatchObject({ name: "admin", role: "ADMIN", projectId: null });
    await close(first);

    const restarted = await open(dir);
    const again = await ensureAdminToken({ ...restarted, dataDir: dir, print: (banner) => printed.push(banner) });
    expect(again).toEqual({ created: false, rotated: false, secret: null, file: null });
    expect(printed).toHaveLength(1);
    expect(authenticate(restarted.readModels, secret)?.role).toBe("ADMIN");
  });

  it("prints to stderr by default, never inside the JSON logs on stdout", async () => {
    const dir = freshDir();
    const handle = await open(dir);
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const result = await ensureAdminToken({ ...handle });
      expect(written.join("")).toContain(`ADMIN token (shown once): ${result.secret}`);
    } finally {
      spy.mockRestore();
    }
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
      ensureAdminToken({ ...a, adminToken: given, dataDir: dir }),
      ensureAdminToken({ ...b, adminToken: given, dataDir: dir }),
    ]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(authenticate(a.readModels, given)).toMatchObject({ name: "admin", role: "ADMIN" });
    expect((await a.store.readAll()).filter((event) => event.type === "ApiTokenCreated")).toHaveLength(1);
    // The operator chose it: it is not written to a file.
    expect(existsSync(join(dir, ADMIN_TOKEN_FILE))).toBe(false);
  });

  it("set on an existing installation rotates the admin token's secret instead of adding a second ADMIN", async () => {
    const dir = freshDir();
    const handle = await open(dir);
    const printed: string[] = [];
    const first = await ensureAdminToken({ ...handle, dataDir: dir, print: (line) => printed.push(line) });
    const old = first.secret ?? "";
    const given = "operator-chosen-secret-0123456789";
    const rotated = await ensureAdminToken({
      ...handle,
      dataDir: dir,
      adminToken: given,
      print: (line) => printed.push(line),
    });
    expect(rotated).toEqual({ created: false, rotated: true, secret: null, file: null });
    expect(printed).toHaveLength(1);
    expect(handle.readModels.tokenCount()).toBe(1);
    expect(authenticate(handle.readModels, given)).toMatchObject({ name: "admin", role: "ADMIN" });
    expect(authenticate(handle.readModels, old)).toBeNull();
    // The saved file held the old, now useless secret: it is gone.
    expect(existsSync(join(dir, ADMIN_TOKEN_FILE))).toBe(false);
    // Recorded as an event with only the hash.
    const events = await handle.store.readAll();
    const rotation = events.filter((event) => event.type === "ApiTokenSecretRotated");
    expect(rotation).toHaveLength(1);
    expect(rotation[0]?.data).toMatchObject({ secretHash: hashSecret(given) });
    expect(JSON.stringify(events.map((event) => event.data))).not.toContain(given);
    // Again with the same value: nothing new. Back after a restart too.
    expect(await ensureAdminToken({ ...handle, adminToken: given })).toMatchObject({ created: false, rotated: false });
    await close(handle);
    const restarted = await open(dir);
    expect(authenticate(restarted.readModels, given)?.name).toBe("admin");
    expect(authenticate(restarted.readModels, old)).toBeNull();
  });

  it("rotates once when two API processes start together with a new ADMIN_TOKEN", async () => {
    const dir = freshDir();
    const a = await open(dir);
    await ensureAdminToken({ ...a, print: () => {} });
    const b = await open(dir);
    const given = "operator-rotated-secret-0123456789";
    const results = await Promise.all([
      ensureAdminToken({ ...a, adminToken: given }),
      ensureAdminToken({ ...b, adminToken: given }),
    ]);
    expect(results.filter((r) => r.rotated).length).toBeGreaterThanOrEqual(1);
    expect((await a.store.readAll()).filter((event) => event.type === "ApiTokenSecretRotated")).toHaveLength(1);
    expect(authenticate(b.readModels, given)?.name).toBe("admin");
  });

  it("equal to another token's secret changes nothing", async () => {
    const dir = freshDir();
    const handle = await open(dir);
    const first = await ensureAdminToken({ ...handle, print: () => {} });
    // Rotate to a known secret, then try to "rotate" to the same: no event.
    const given = "operator-chosen-secret-zzzz0123456";
    await ensureAdminToken({ ...handle, adminToken: given });
    const before = (await handle.store.readAll()).length;
    expect(await ensureAdminToken({ ...handle, adminToken: given })).toMatchObject({ rotated: false, created: false });
    expect((await handle.store.readAll()).length).toBe(before);
    expect(authenticate(handle.readModels, first.secret ?? "")).toBeNull();
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
