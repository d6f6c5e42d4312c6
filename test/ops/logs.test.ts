// Logs: JSON lines when stdout is a pipe or a file (what log shippers read), readable lines on a
// terminal (LOG_FORMAT=auto), either one forced with LOG_FORMAT; secrets stay redacted in both.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../services/platform/logger.ts";
import { REPO_ROOT } from "../setup/binaries.ts";

const dir = mkdtempSync(join(tmpdir(), "logs-test-"));
const script = join(dir, "log-once.mjs");
writeFileSync(
  script,
  `import { createLogger } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, "services/platform/logger.ts")).href)};
createLogger("api").info({ component: "server", token: "s3cret-token" }, "hello operator");
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the script with stdout on a pseudo-terminal (util-linux `script`) or on a pipe. */
function logLine(terminal: boolean): string {
  const command = `'${process.execPath}' '${script}'`;
  const result = terminal
    ? spawnSync("script", ["-qec", command, "/dev/null"], { encoding: "utf8" })
    : spawnSync("bash", ["-c", command], { encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim();
}

describe("log format", () => {
  it("is JSON lines when stdout is not a terminal", () => {
    const line = JSON.parse(logLine(false)) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: "info",
      service: "api",
      component: "server",
      msg: "hello operator",
      token: "[redacted]",
    });
  });

  it("is readable on a terminal: time, level, [service/component] message — no JSON", () => {
    const line = logLine(true);
    expect(line).not.toContain('{"level"');
    expect(line).toMatch(/\d\d:\d\d:\d\d\.\d{3}/);
    expect(line).toContain("INFO");
    expect(line).toContain("[api/server] hello operator");
    expect(line).toContain("[redacted]");
    expect(line).not.toContain("s3cret-token");
  });

  it("follows LOG_FORMAT over the terminal check (through createLogger's format option)", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    createLogger("worker", { format: "pretty", destination: sink }).warn("pretty to a pipe");
    createLogger("worker", { format: "json", destination: sink }).warn("json to a pipe");
    expect(lines[0]).toContain("WARN");
    expect(lines[0]).toContain("[worker] pretty to a pipe");
    expect(JSON.parse(lines[1] as string)).toMatchObject({ level: "warn", msg: "json to a pipe" });
  });
});
