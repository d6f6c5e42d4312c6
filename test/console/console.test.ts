// The console in Chromium against the API wired as `npm start` wires it (buildApp on a free port serving
// console/dist, a real release worker, the run's Temporal dev server). Statsig's walk-through clicked
// through: eve (EDITOR) changes a gate, which starts a release; she pauses, unpauses; amy (APPROVER, in a
// second browser context) skips, approves; eve skips the last bake; a second change is aborted. Each
// change shows up live in the other context. A stale dialog is refused in words; a VIEWER sees every
// action disabled with the reason; axe-core finds no serious or critical violation on any page; every
// page is saved as a screenshot under test-artifacts/console/.

import type { Browser, BrowserContext, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, createPublishedPipeline, createToken, release } from "../api/documents.ts";
import { startTestApi, type TestApi } from "../api/harness.ts";
import { startCheckTargets } from "../support/check-targets.ts";
import { launchBrowser, newContext, screenshot, see, seriousViolations, signIn, watch } from "./browser.ts";

let api: TestApi;
let origin: string;
let browser: Browser;
let eveContext: BrowserContext;
let amyContext: BrowserContext;
let viewerContext: BrowserContext;
let projectId: string;
let pipelineId: string;
let tokens: { eve: string; amy: string; vic: string };
let featureId: string;
let firstReleaseId: string;

beforeAll(async () => {
  api = await startTestApi();
  origin = new URL(api.url).origin;
  projectId = await createProject(api, "Checkout");
  tokens = {
    eve: await createToken(api, "eve", "EDITOR", projectId),
    amy: await createToken(api, "amy", "APPROVER", projectId),
    vic: await createToken(api, "vic", "VIEWER", projectId),
  };
  pipelineId = await createPublishedPipeline(
    api,
    projectId,
    [
      { name: "Development", targets: [{ environment: "development" }] },
      { name: "Staging", waitFor: "PT1H", targets: [{ environment: "staging" }] },
      {
        name: "Production us-west",
        waitFor: "PT1H",
        requiresApproval: true,
        approvalsRequired: 1,
        targets: [{ environment: "production", segment: "us-west" }],
      },
      { name: "Production", waitFor: "PT1H", targets: [{ environment: "production" }] },
    ],
    { name: "Statsig standard", selfApproval: "FORBIDDEN", token: tokens.eve },
  );
  browser = await launchBrowser();
  eveContext = await newContext(browser);
  amyContext = await newContext(browser);
  viewerContext = await newContext(browser);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

/** Screenshot, then axe-core: no serious or critical violation. */
async function checkPage(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
}

const banner = (page: Page) => page.getByRole("status", { name: "Release status" });

/** ⋯ → action → dialog with a reason → Confirm; waits for the dialog to close (the answer came). */
async function act(page: Page, action: string, reason?: string): Promise<void> {
  await page.getByRole("button", { name: "Release actions" }).click();
  await page.getByRole("menuitem", { name: action, exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  if (reason !== undefined) await dialog.getByLabel("Reason").fill(reason);
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await dialog.waitFor({ state: "hidden" });
}

/** Confirms the open dialog (a save, a publish, a delete) and waits until it closed: the service answered. */
async function confirm(page: Page): Promise<void> {
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Confirm" }).click();
  await dialog.waitFor({ state: "hidden" });
}

/** Opens the ⋯ menu and reads each action's state: null when enabled, else the reason it is disabled. */
async function menuState(page: Page): Promise<Record<string, string | null>> {
  await page.getByRole("button", { name: "Release actions" }).click();
  const state: Record<string, string | null> = {};
  for (const name of ["Approve", "Pause", "Unpause", "Skip", "Abort", "Full Roll Out"]) {
    const item = page.getByRole("menuitem", { name, exact: true });
    state[name] = (await item.isDisabled())
      ? await item.evaluate((el) => {
          const id = el.getAttribute("aria-describedby");
          return (id ? document.getElementById(id)?.textContent : null) ?? "(no reason)";
        })
      : null;
  }
  await page.keyboard.press("Escape");
  return state;
}

describe("the console", () => {
  it("has an accessibility check that does catch a violation (the harness itself)", async () => {
    const page = await viewerContext.newPage();
    await page.setContent(`<html lang="en"><title>t</title><main><input type="text"><img src="x.png"></main></html>`);
    expect((await seriousViolations(page)).map((v) => v.id).sort()).toEqual(["image-alt", "label"]);
    await page.close();
  });

  it("signs in with a token, refuses a wrong one in words, and lists the projects", async () => {
    const page = await eveContext.newPage();
    watch(page);
    await page.goto(`${origin}/`);
    await page.getByLabel("API token").waitFor();
    await checkPage(page, "01-sign-in");
    await page.getByLabel("API token").fill("not-a-real-token-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await see(page.getByRole("alert"), "Your token was not accepted");
    await page.close();

    const eve = await signIn(eveContext, origin, "/", tokens.eve);
    await see(eve.getByRole("link", { name: "Checkout" }));
    await checkPage(eve, "02-projects");
    await eve.getByRole("link", { name: "Checkout" }).click();
    await see(eve.getByRole("heading", { name: "Checkout", level: 1 }));
    // The gate is created in the browser, with the pipeline attached.
    await eve.getByLabel("Key").fill("new-checkout");
    await eve.getByRole("combobox", { name: /^Pipeline/ }).selectOption({ label: "Statsig standard" });
    await eve.getByRole("button", { name: "Create feature" }).click();
    await see(eve.getByRole("heading", { name: /new-checkout/, level: 1 }));
    featureId = new URL(eve.url()).pathname.split("/").at(-1) ?? "";
    await see(banner(eve), "No release in progress");
    await checkPage(eve, "03-feature");
    await eve.goto(`${origin}/projects/${projectId}`);
    await see(eve.getByRole("link", { name: "new-checkout" }));
    await checkPage(eve, "04-project");
  }, 180_000);

  it("runs Statsig's walk-through in the browser; a second browser sees every change live", async () => {
    // eve saves a change: with a pipeline attached it starts a release, and the page goes to it.
    const eve = await signIn(eveContext, origin, `/features/${featureId}`, tokens.eve);
    for (const env of ["development", "staging", "production"]) await eve.getByLabel(`Enabled in ${env}`).check();
    await eve.getByRole("button", { name: "Save and start release" }).click();
    await see(eve.getByRole("dialog"), "These changes will progress through the pipeline Statsig standard");
    await checkPage(eve, "05a-save-confirmation");
    await confirm(eve);
    await eve.waitForURL(/\/releases\//);
    firstReleaseId = decodeURIComponent(new URL(eve.url()).pathname.split("/").at(-1) ?? "");
    await see(banner(eve), "Phase 2 of 4: Staging — Baking");
    // The bake countdown ticks in the page (no reload, no new event).
    const timer = eve.getByRole("timer", { name: "Bake time left in Staging" });
    const shown = await timer.textContent();
    expect(shown).toMatch(/^(59m \d\ds|1h 00m 00s) left$/);
    await timer.filter({ hasNotText: shown ?? "" }).waitFor();

    // amy watches the same release from another browser context.
    const amy = await signIn(amyContext, origin, `/releases/${firstReleaseId}`, tokens.amy);
    await see(banner(amy), "Phase 2 of 4: Staging — Baking");
    await checkPage(eve, "05-release-baking");

    // Pause → Confirm: both pages show the bake timer stopped.
    await act(eve, "Pause", "checking dashboards");
    await see(banner(eve), "Staging — Paused");
    await see(banner(amy), "Staging — Paused");
    await see(amy.getByRole("cell", { name: "checking dashboards" }));
    // Unpause → Confirm.
    await act(eve, "Unpause");
    await see(banner(eve), "Staging — Baking");
    await see(banner(amy), "Staging — Baking");

    // A stale page: eve opens Skip for Staging, amy skips Staging first; the next phase bakes too, so an
    // unguarded Skip would skip its bake — eve's Confirm carries Staging's index and is refused in words.
    await eve.getByRole("button", { name: "Release actions" }).click();
    await eve.getByRole("menuitem", { name: "Skip", exact: true }).click();
    const staleDialog = eve.getByRole("dialog");
    await see(staleDialog, "Staging");
    await act(amy, "Skip", "staging looks good");
    await see(banner(amy), "Phase 3 of 4: Production us-west — Baking");
    // eve's banner moved on live, behind her open dialog.
    await see(banner(eve), "Production us-west — Baking");
    await see(staleDialog.getByRole("note"), "The release has moved on since you opened this");
    await staleDialog.getByRole("button", { name: "Confirm" }).click();
    await see(staleDialog.getByRole("alert"), "moved on since this page showed it");
    await see(staleDialog.getByRole("alert"), "(INVALID_STATE)");
    await screenshot(eve, "06-stale-action-refused");
    await staleDialog.getByRole("button", { name: "Cancel" }).click();
    await staleDialog.waitFor({ state: "hidden" });
    // The refused action changed nothing: one SKIP, by amy.
    expect((await release(api, firstReleaseId)).actions.map((a) => [a.kind, a.by, a.phaseIndex])).toEqual([
      ["PAUSE", "eve", 1],
      ["UNPAUSE", "eve", 1],
      ["SKIP", "amy", 1],
    ]);
    await see(banner(eve), "Production us-west — Baking");

    // eve skips the us-west bake; the phase then awaits approval.
    await act(eve, "Skip");
    await see(banner(eve), "Phase 3 of 4: Production us-west — Awaiting approval (0 of 1)");
    await see(banner(amy), "Awaiting approval (0 of 1)");
    // amy (APPROVER) is notified on whatever page she is on, with a link to the release.
    await see(
      amy.getByRole("region", { name: "Notifications" }).getByRole("link", {
        name: "new-checkout release 1: Production us-west awaits approval",
      }),
    );

    // eve is an EDITOR: Approve is disabled, saying why; so is Pause (nothing is baking).
    const eveMenu = await menuState(eve);
    expect(eveMenu.Approve).toMatch(/Needs the APPROVER role/);
    expect(eveMenu.Pause).toMatch(/Only a running bake timer can be paused/);
    expect(eveMenu.Abort).toBeNull();
    await eve.getByRole("button", { name: "Release actions" }).click();
    await checkPage(eve, "07-release-actions-menu");
    await eve.keyboard.press("Escape");

    // amy approves with a comment; eve sees the next phase bake.
    await act(amy, "Approve", "LGTM");
    await see(banner(amy), "Phase 4 of 4: Production — Baking");
    await see(banner(eve), "Phase 4 of 4: Production — Baking");
    await see(eve.getByRole("list", { name: "Approvals of Production us-west" }), "amy");

    // eve skips the last bake: the release completes, on both pages.
    await act(eve, "Skip", "confident");
    await see(banner(eve), "Completed");
    await see(banner(amy), "Completed");
    const done = await menuState(amy);
    expect(Object.values(done).every((why) => why === "The release is completed.")).toBe(true);
    await checkPage(amy, "08-release-completed");
    const completed = await release(api, firstReleaseId);
    expect(completed.status).toBe("COMPLETED");
    expect(completed.actions.map((a) => [a.kind, a.by, a.reason])).toEqual([
      ["PAUSE", "eve", "checking dashboards"],
      ["UNPAUSE", "eve", null],
      ["SKIP", "amy", "staging looks good"],
      ["SKIP", "eve", null],
      ["APPROVE", "amy", "LGTM"],
      ["SKIP", "eve", "confident"],
    ]);
    expect(completed.phases[2]?.approvals).toEqual([{ by: "amy", comment: "LGTM" }]);
  }, 180_000);

  it("shows a VIEWER every action disabled with the reason; aborts a second change and fully rolls out a third, live", async () => {
    const eve = await signIn(eveContext, origin, `/features/${featureId}`, tokens.eve);
    // The change: staging off, and a rule in development (us-east: off for 50%).
    await eve.getByLabel("Enabled in staging").uncheck();
    await eve.getByRole("button", { name: "Add rule in development" }).click();
    await eve.getByRole("combobox", { name: /^Segment of rule 1 in development/ }).selectOption("us-east");
    await eve.getByLabel("On for rule 1 in development").uncheck();
    await eve.getByLabel("Rollout % of rule 1 in development").fill("50");
    await eve.getByRole("button", { name: "Save and start release" }).click();
    await confirm(eve);
    await eve.waitForURL(/\/releases\//);
    const releaseId = decodeURIComponent(new URL(eve.url()).pathname.split("/").at(-1) ?? "");
    expect(releaseId).not.toBe(firstReleaseId);
    const started = await release(api, releaseId);
    expect(started.after.map((e) => [e.environment, e.definition])).toEqual([
      [
        "development",
        {
          enabled: true,
          value: null,
          rules: [{ segment: "us-east", enabled: false, value: null, rolloutPercentage: 50 }],
        },
      ],
      ["staging", { enabled: false, value: null, rules: [] }],
      ["production", { enabled: true, value: null, rules: [] }],
    ]);
    await see(banner(eve), "Staging — Baking");

    // vic (VIEWER) watches from the feature page: every action is disabled and says why.
    const vic = await signIn(viewerContext, origin, `/features/${featureId}`, tokens.vic);
    await see(banner(vic), "Staging — Baking");
    const vicMenu = await menuState(vic);
    for (const [name, why] of Object.entries(vicMenu)) {
      const role = name === "Approve" || name === "Full Roll Out" ? "APPROVER" : "EDITOR";
      expect(why, name).toBe(`Needs the ${role} role; you are signed in as vic (VIEWER).`);
    }
    // No edit form for a VIEWER either.
    expect(await vic.getByRole("button", { name: /Save/ }).count()).toBe(0);
    await vic.getByRole("button", { name: "Release actions" }).click();
    await checkPage(vic, "09-viewer-actions-disabled");
    await vic.keyboard.press("Escape");

    // A Confirm whose answer is lost on the way back: the page says so; a second Confirm carries the same
    // Idempotency-Key, so the pause is applied once.
    let dropped = 0;
    await eve.route("**/graphql", async (route) => {
      const request = route.request();
      if (request.method() !== "POST" || !request.postData()?.includes("pauseRelease") || dropped > 0) {
        return route.fallback();
      }
      dropped++;
      await route.fetch(); // the service gets it and applies it…
      await route.abort("connectionreset"); // …and the answer never reaches the page
    });
    await eve.getByRole("button", { name: "Release actions" }).click();
    await eve.getByRole("menuitem", { name: "Pause", exact: true }).click();
    const pauseDialog = eve.getByRole("dialog");
    await pauseDialog.getByRole("button", { name: "Confirm" }).click();
    await see(pauseDialog.getByRole("alert"), "(NETWORK)");
    await pauseDialog.getByRole("button", { name: "Confirm" }).click();
    await pauseDialog.waitFor({ state: "hidden" });
    await see(banner(eve), "Staging — Paused");
    await eve.unroute("**/graphql");
    expect(dropped).toBe(1);
    expect((await release(api, releaseId)).actions.map((a) => [a.kind, a.by])).toEqual([["PAUSE", "eve"]]);

    // eve aborts: both pages show it, and the feature is back to what it was.
    await act(eve, "Abort", "metrics regressed");
    await see(banner(eve), "Aborted: metrics regressed");
    await see(banner(vic), "Aborted: metrics regressed");
    const aborted = await release(api, releaseId);
    expect(aborted.status).toBe("ABORTED");
    expect(aborted.actions.map((a) => [a.kind, a.by, a.reason])).toEqual([
      ["PAUSE", "eve", null],
      ["ABORT", "eve", "metrics regressed"],
    ]);
    await checkPage(vic, "10-feature-after-abort");

    // A third change, rolled out fully by amy (APPROVER) from the feature page: waits and approvals bypassed.
    await eve.goto(`${origin}/features/${featureId}`);
    await eve.getByLabel("Enabled in development").uncheck();
    await eve.getByRole("button", { name: "Save and start release" }).click();
    await confirm(eve);
    await eve.waitForURL(/\/releases\//);
    const thirdId = decodeURIComponent(new URL(eve.url()).pathname.split("/").at(-1) ?? "");
    const amy = await signIn(amyContext, origin, `/features/${featureId}`, tokens.amy);
    await see(banner(amy), "Staging — Baking");
    await act(amy, "Full Roll Out", "hotfix");
    await see(banner(amy), "Completed");
    await see(banner(eve), "Completed");
    const third = await release(api, thirdId);
    expect(third.actions.map((a) => [a.kind, a.by, a.reason])).toEqual([["FULL_ROLLOUT", "amy", "hotfix"]]);
  }, 180_000);

  it("renders every other page without a serious accessibility violation", async () => {
    const admin = await signIn(eveContext, origin, `/projects/${projectId}/releases`, api.adminToken);
    await see(admin.getByRole("heading", { name: "Releases in flight" }));
    await see(admin.getByText("No release in flight."));
    await admin.getByLabel("Show completed and aborted releases too").check();
    await see(admin.getByRole("link", { name: "new-checkout release 1" }));
    await checkPage(admin, "11-releases");

    await admin.goto(`${origin}/projects/${projectId}/pipelines`);
    await see(admin.getByRole("link", { name: "Statsig standard" }));
    await checkPage(admin, "12-pipelines");
    await admin.goto(`${origin}/pipelines/${pipelineId}`);
    await see(admin.getByText("Published pipelines are immutable"));
    await checkPage(admin, "13-pipeline");

    // Audit replay: the release's events on a slider; its state as of the first one.
    await admin.goto(`${origin}/projects/${projectId}/audit?entity=${encodeURIComponent(firstReleaseId)}`);
    const slider = admin.getByRole("slider", { name: "Point in time" });
    await slider.waitFor();
    await see(banner(admin), "Completed");
    await slider.focus();
    await admin.keyboard.press("Home");
    await see(admin.getByText(/As of event 1 of \d+: ReleaseStarted/));
    await see(banner(admin), "Phase 1 of 4: Development");
    await checkPage(admin, "14-audit-replay");

    // The feature as of its first event: created, off everywhere (featureAsOf).
    await admin.goto(`${origin}/projects/${projectId}/audit?entity=${encodeURIComponent(featureId)}`);
    const featureSlider = admin.getByRole("slider", { name: "Point in time" });
    await featureSlider.waitFor();
    await see(admin.getByRole("table", { name: "Definitions as of then" }));
    // A slow as-of answer: meanwhile the page must not show the previous point's state under the new heading.
    const slowAsOf = async (route: Route): Promise<void> => {
      if ((route.request().postData() ?? "").includes("featureAsOf")) await new Promise((r) => setTimeout(r, 1_500));
      await route.continue();
    };
    await admin.route(`${origin}/graphql`, slowAsOf);
    await featureSlider.focus();
    await admin.keyboard.press("Home");
    await see(admin.getByText(/As of event 1 of \d+: FeatureCreated by eve/));
    const asOf = admin.getByRole("table", { name: "Definitions as of then" });
    await see(asOf.getByRole("row", { name: /development/ }), "Off");
    expect(await asOf.getByText("On", { exact: true }).count()).toBe(0);
    await admin.unroute(`${origin}/graphql`, slowAsOf);

    // Filters: only amy's events (the address keeps the filter, so it can be shared).
    await admin.goto(`${origin}/projects/${projectId}/audit`);
    await admin.getByLabel("Actor").fill("amy");
    await admin.getByRole("button", { name: "Apply filters" }).click();
    await admin.waitForURL(/actor=amy/);
    await admin.waitForFunction(() => {
      const actors = [...document.querySelectorAll("table.audit tbody tr td:nth-child(4)")].map((c) => c.textContent);
      return actors.length > 0 && actors.every((actor) => actor === "amy");
    });
    const types = await admin.locator("table.audit tbody tr td:nth-child(2)").allTextContents();
    expect(new Set(types)).toEqual(
      new Set(["ReleasePhaseWaitSkipped", "ReleasePhaseApproved", "ReleaseFullRolloutRequested"]),
    );

    // An ADMIN creates a project in the browser: environments in order, segments one a line.
    await admin.goto(`${origin}/`);
    await admin.getByLabel("Name", { exact: true }).fill("Storefront");
    await admin.getByLabel(/^Environments, in order/).fill("dev, prod");
    await admin.getByLabel(/^Segments, one a line/).fill("eu: country IN de, fr");
    await admin.getByRole("button", { name: "Create project" }).click();
    await see(admin.getByRole("heading", { name: "Storefront", level: 1 }));
    await see(admin.getByText("Environments: dev → prod · Segments: eu (country IN de, fr)"));

    // ADMIN pages: listing needs fields other branches add (apiTokens, sdkKeys); without them the page
    // says so instead of failing (decision 0020). Creating a token works either way.
    await admin.goto(`${origin}/tokens`);
    await see(admin.getByRole("heading", { name: "API tokens" }));
    await see(admin.getByRole("note").or(admin.getByRole("table")));
    await admin.getByLabel("Token name").fill("ci-bot");
    await admin.getByRole("combobox", { name: /^Project/ }).selectOption({ label: "Checkout" });
    await admin.getByRole("button", { name: "Create token" }).click();
    const secret = await admin.getByRole("textbox", { name: "Secret" }).inputValue();
    const asBot = await api.ok<{ viewer: { tokenName: string; role: string; projectId: string } }>(
      /* GraphQL */ `{ viewer { tokenName role projectId } }`,
      {},
      secret,
    );
    expect(asBot.viewer).toEqual({ tokenName: "ci-bot", role: "VIEWER", projectId });
    expect(await admin.getByRole("alert").count()).toBe(0);
    await checkPage(admin, "15-api-tokens");
    await admin.goto(`${origin}/projects/${projectId}/sdk-keys`);
    await see(admin.getByRole("heading", { name: "SDK keys", level: 1 }));
    await see(admin.getByRole("note").or(admin.getByText(/No SDK key yet|Create SDK key/)));
    // The form shows the environment a new key is for (the first, until another is chosen), and the
    // breadcrumb names the project.
    const environment = admin.getByRole("combobox", { name: "Environment" });
    expect(await environment.inputValue()).toBe("development");
    expect(await environment.evaluate((select: HTMLSelectElement) => select.selectedIndex)).toBe(0);
    await see(admin.getByRole("navigation", { name: /breadcrumb/i }).getByRole("link", { name: "Checkout" }));
    expect(await admin.getByRole("alert").count()).toBe(0);
    await checkPage(admin, "16-sdk-keys");

    // Governance: a webhook (its secret shown once), then a freeze shown on the project page and lifted.
    await admin.goto(`${origin}/projects/${projectId}/webhooks`);
    await see(admin.getByRole("heading", { name: "Webhooks", level: 1 }));
    await admin.getByLabel("URL (http or https, no credentials)").fill("https://hooks.example.com/releases");
    await admin.getByRole("button", { name: "Create webhook" }).click();
    await see(admin.getByText(/Copy the signing secret now/));
    await see(admin.getByRole("region", { name: "Webhook https://hooks.example.com/releases" }));
    await checkPage(admin, "17-webhooks");
    await admin.goto(`${origin}/projects/${projectId}`);
    await admin.getByLabel("Freeze reason").fill("incident 1");
    await admin.getByRole("button", { name: "Freeze project" }).click();
    await see(admin.getByRole("region", { name: "Freeze" }).getByRole("status"), "incident 1");
    await checkPage(admin, "18-frozen");
    await admin.getByRole("button", { name: "Unfreeze project" }).click();
    await see(admin.getByRole("button", { name: "Freeze project" }));
  }, 180_000);

  it("edits a draft pipeline, publishes it, clones it and deletes the clone", async () => {
    // A pipeline in use cannot be deleted: the dialog says so in words and stays open.
    const eve = await signIn(eveContext, origin, `/pipelines/${pipelineId}`, tokens.eve);
    await eve.getByRole("button", { name: "Delete" }).click();
    await eve.getByRole("dialog").getByRole("button", { name: "Confirm" }).click();
    await see(eve.getByRole("dialog").getByRole("alert"), "A feature still uses this pipeline");
    await see(eve.getByRole("dialog").getByRole("alert"), "(PIPELINE_IN_USE)");
    await eve.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    await eve.goto(`${origin}/projects/${projectId}/pipelines`);
    await eve.getByLabel("Pipeline name").fill("Two steps");
    await eve.getByRole("button", { name: "Create draft" }).click();
    await see(eve.getByRole("heading", { name: /Two steps/, level: 1 }));
    const draftId = new URL(eve.url()).pathname.split("/").at(-1) ?? "";
    await eve.getByRole("button", { name: "Add phase" }).click();
    await eve.getByLabel("Name of phase 2").fill("Prod west");
    await eve.getByLabel("Targets of phase 2").fill("production/us-west");
    await eve.getByLabel("Bake time of phase 2").fill("PT30M");
    await eve.getByLabel("Phase 2 requires approval").check();
    // A ramp and a guardrail on phase 2.
    await eve.getByLabel("Ramp of phase 2: initial %").fill("5");
    await eve.getByLabel("Ramp of phase 2: increase by %").fill("20");
    await eve.getByLabel("Ramp of phase 2: every").fill("PT1H");
    await eve.getByRole("button", { name: "Add guardrail to phase 2" }).click();
    await eve.getByLabel("Name of guardrail 1 of phase 2").fill("error rate");
    await eve.getByLabel("Kind of guardrail 1 of phase 2").selectOption("PROMETHEUS_QUERY");
    await eve.getByLabel("URL of guardrail 1 of phase 2").fill("http://prometheus:9090");
    await eve.getByLabel("Query of guardrail 1 of phase 2").fill("sum(rate(errors[5m]))");
    await eve.getByLabel("Threshold of guardrail 1 of phase 2").fill("0.05");
    await eve.getByLabel("When guardrail 1 of phase 2 trips").selectOption("ABORT");
    await eve.getByRole("button", { name: "Save draft" }).click();
    await see(eve.getByRole("status"), "Draft saved.");
    await checkPage(eve, "17-pipeline-draft-editor");
    // A bad duration is refused in words and nothing changes.
    await eve.getByLabel("Bake time of phase 2").fill("soon");
    await eve.getByRole("button", { name: "Save draft" }).click();
    await see(eve.getByRole("alert"), "(VALIDATION)");

    await eve.reload();
    await see(eve.getByRole("heading", { name: /Two steps/, level: 1 }));
    await eve.getByRole("button", { name: "Publish" }).click();
    await confirm(eve);
    await see(eve.getByText("Published pipelines are immutable"));
    const published = await api.ok<{ pipeline: { status: string; phases: unknown[] } }>(
      /* GraphQL */ `query($id: ID!) { pipeline(id: $id) { status phases { name waitFor requiresApproval targets { environment segment } ramp { initialPercentage increaseBy every } guardrails { name kind url query comparator threshold interval failuresToTrip onFailure } } } }`,
      { id: draftId },
    );
    expect(published.pipeline.status).toBe("PUBLISHED");
    expect(published.pipeline.phases).toEqual([
      {
        name: "Phase 1",
        waitFor: null,
        requiresApproval: false,
        targets: [{ environment: "development", segment: null }],
        ramp: null,
        guardrails: [],
      },
      {
        name: "Prod west",
        waitFor: "PT30M",
        requiresApproval: true,
        targets: [{ environment: "production", segment: "us-west" }],
        ramp: { initialPercentage: 5, increaseBy: 20, every: "PT1H" },
        guardrails: [
          {
            name: "error rate",
            kind: "PROMETHEUS_QUERY",
            url: "http://prometheus:9090",
            query: "sum(rate(errors[5m]))",
            comparator: "LT",
            threshold: 0.05,
            interval: "PT1M",
            failuresToTrip: 3,
            onFailure: "ABORT",
          },
        ],
      },
    ]);

    await eve.getByRole("button", { name: "Clone" }).click();
    await see(eve.getByRole("heading", { name: /Two steps \(copy\)/, level: 1 }));
    await see(eve.getByRole("textbox", { name: /Name of phase 2/ }));
    await eve.getByRole("button", { name: "Delete" }).click();
    await confirm(eve);
    await see(eve.getByRole("status"), "Deleted.");
    await see(eve.getByRole("heading", { name: /DELETED/, level: 1 }));
  }, 180_000);

  it("opens GraphiQL from local assets: nothing is fetched from another origin", async () => {
    const page = await eveContext.newPage();
    watch(page);
    const elsewhere: string[] = [];
    await page.route("**/*", async (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith("blob:") || url.startsWith("data:")) return route.continue();
      elsewhere.push(url);
      return route.abort();
    });
    // With a token (what its Headers tab sends), GraphiQL's own schema query is answered: docs and completion.
    await page.setExtraHTTPHeaders({ authorization: `Bearer ${tokens.eve}` });
    const introspection = page.waitForResponse((response) =>
      (response.request().postData() ?? "").includes("IntrospectionQuery"),
    );
    await page.goto(`${origin}/graphql`);
    await page.locator(".graphiql-container").first().waitFor();
    await page.getByRole("button", { name: /Execute query/ }).waitFor();
    const schema = await introspection;
    const answer = (await schema.json()) as { data?: { __schema?: unknown }; errors?: unknown };
    expect(answer.errors).toBeUndefined();
    expect(schema.status()).toBe(200);
    expect(answer.data?.__schema).toBeDefined();
    await screenshot(page, "18-graphiql");
    expect(elsewhere).toEqual([]);
    await page.close();
  }, 180_000);

  it("shows a ramping phase: its ramp, the share of units it serves, the time to the next step, its guardrails", async () => {
    const targets = await startCheckTargets();
    const rampPipeline = await createPublishedPipeline(
      api,
      projectId,
      [
        { name: "Development", targets: [{ environment: "development" }] },
        {
          name: "Production ramp",
          targets: [{ environment: "production" }],
          ramp: { initialPercentage: 25, increaseBy: 25, every: "PT6H" },
          guardrails: [{ name: "health", kind: "HTTP_PROBE", url: `${targets.url}/healthz`, interval: "PT1S" }],
        },
      ],
      { name: "Phased rollout", token: tokens.eve },
    );
    const created = await api.ok<{ createFeature: { id: string } }>(
      /* GraphQL */ `mutation($input: CreateFeatureInput!) { createFeature(input: $input) { id } }`,
      { input: { projectId, key: "ramped-banner", kind: "GATE", pipelineId: rampPipeline } },
      tokens.eve,
    );
    const started = await api.ok<{ updateFeature: { id: string } }>(
      /* GraphQL */ `mutation($id: ID!, $input: UpdateFeatureInput!) {
        updateFeature(id: $id, input: $input) { ... on Release { id } }
      }`,
      {
        id: created.createFeature.id,
        input: { environments: [{ environment: "production", definition: { enabled: true } }] },
      },
      tokens.eve,
    );
    const page = await signIn(eveContext, origin, `/releases/${started.updateFeature.id}`, tokens.eve);
    await see(banner(page), "Production ramp — Ramping · 25% of units");
    const phase = page.getByRole("listitem").filter({ hasText: "2. Production ramp" });
    await see(phase, "Ramp: 25% of units, then +25% every");
    await see(phase, "Serving 25% of units");
    expect(
      await page.getByRole("progressbar", { name: "Share of units in Production ramp" }).getAttribute("value"),
    ).toBe("25");
    // The probe answers 200: the guardrail's first check is stored and shown as passing.
    await see(
      page.getByRole("list", { name: "Guardrails of Production ramp" }),
      /health \(HTTP_PROBE, every .*, 3 failures → PAUSE\): passing last: HTTP 200/,
    );
    await checkPage(page, "19-ramping-phase");

    // Roll Back: undo the ramping phase's progress, back to Development; the ramp starts again.
    await page.getByRole("button", { name: "Release actions" }).click();
    await page.getByRole("menuitem", { name: "Roll Back", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Roll back to phase").selectOption({ label: "1. Development" });
    await dialog.getByLabel("Reason").fill("error budget burned");
    await checkPage(page, "20-roll-back-dialog");
    await dialog.getByRole("button", { name: "Confirm" }).click();
    await dialog.waitFor({ state: "hidden" });
    const actions = page.getByRole("table").filter({ hasText: "ROLLBACK_TO_PHASE" });
    await see(actions, /ROLLBACK_TO_PHASE\s*eve\s*Development\s*error budget burned/);
    expect((await release(api, started.updateFeature.id)).actions.map((a) => a.kind)).toEqual(["ROLLBACK_TO_PHASE"]);
    await page.goto(`${origin}/pipelines/${rampPipeline}`);
    await see(page.getByRole("list", { name: "Phases" }), "Ramp: 25% of units, then +25% every");
    await see(page.getByRole("list", { name: "Phases" }), "Guardrail: health (HTTP_PROBE");
    await page.close();
    await targets.close();
  }, 180_000);
});
