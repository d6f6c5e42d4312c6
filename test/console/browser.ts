// Browser-test helpers: Chromium through playwright-core (the browser the bootstrap installed, found
// through CHROMIUM_PATH in .tools/env — nothing is downloaded), signing in, axe-core checks and
// screenshots under test-artifacts/console/ (git-ignored).

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { DEFAULT_CONSOLE_DIR } from "../../services/api/console.ts";

export const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts/console");

/** Chromium, or a clear failure: no browser test is skipped for want of a browser. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH;
  if (!executablePath || !existsSync(executablePath)) {
    throw new Error(
      `No Chromium for the browser tests (CHROMIUM_PATH=${executablePath ?? "unset"}). Run the tests through ` +
        "`npm test` (the bootstrap installs Debian's chromium when root, or finds one on PATH and writes " +
        "CHROMIUM_PATH to .tools/env), or set CHROMIUM_PATH.",
    );
  }
  if (!existsSync(join(DEFAULT_CONSOLE_DIR, "index.html"))) {
    throw new Error("The console is not built (console/dist): run `npm run bootstrap`.");
  }
  return chromium.launch({
    executablePath,
    // Root in a container has no user namespaces for Chromium's sandbox; /dev/shm may be small.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: "en-GB",
    timezoneId: "UTC",
  });
  context.setDefaultTimeout(20_000);
  return context;
}

/** Reports the page's uncaught errors and console errors on stderr (a failing test then says why). */
export function watch(page: Page): void {
  page.on("pageerror", (error) => process.stderr.write(`[browser] page error: ${error.message}\n`));
  page.on("console", (message) => {
    if (message.type() === "error") process.stderr.write(`[browser] console error: ${message.text()}\n`);
  });
}

/** Opens `path` on the console and signs in with `token` through the sign-in form. */
export async function signIn(context: BrowserContext, origin: string, path: string, token: string): Promise<Page> {
  const page = await context.newPage();
  watch(page);
  await page.goto(`${origin}${path}`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("Signed in as").waitFor();
  return page;
}

/** Waits until `locator` (narrowed to `text`) is visible. */
export const see = async (locator: Locator, text?: string | RegExp): Promise<void> => {
  await (text === undefined ? locator : locator.filter({ hasText: text })).first().waitFor({ state: "visible" });
};

const axeSource = (): string => {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
};
let axe: string | null = null;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * axe-core's violations on the page, serious and critical only. Injected through the DevTools protocol
 * (page.evaluate), not a <script> tag: the console's Content-Security-Policy forbids inline scripts and
 * stays on during the test.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  axe ??= axeSource();
  await page.evaluate(`${axe};0`);
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })))`,
  )) as AxeViolation[];
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
