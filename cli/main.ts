// `rp`: the release pipelines CLI (README, "The CLI"). Drives the public GraphQL API of a running service
// with RP_URL (its base URL) and RP_TOKEN (an API token's secret): list and show releases (live with
// --watch), act on them, wait for one in a CI job, read the audit log. `--json` on every command prints
// the API's data; errors print the contract's code and message. Run through cli/rp (the package's bin),
// which puts the checkout's Node 24 first on PATH.

import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CliError, type Connection, connectionFromEnv, EXIT, newIdempotencyKey, request, subscribe } from "./client.ts";
import {
  ACTIONS,
  type ActionName,
  ALL_RELEASES,
  AUDIT_LOG,
  type AuditEventView,
  actionDocument,
  PROJECT_RELEASES,
  RELEASE,
  RELEASE_UPDATED,
  type ReleaseSummary,
  type ReleaseView,
  ROLLBACK,
} from "./documents.ts";
import { renderAudit, renderRelease, renderReleaseList } from "./render.ts";

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

interface GlobalOptions {
  json?: boolean;
  url?: string;
}

const RELEASE_STATUSES = ["IN_PROGRESS", "COMPLETED", "ABORTED"] as const;
const WAIT_TARGETS = ["COMPLETED", "ABORTED", "AWAITING_APPROVAL"] as const;
type WaitTarget = (typeof WAIT_TARGETS)[number];

/** "90" (seconds), "90s", "15m", "2h", "1d", or ISO-8601 "PT15M" → milliseconds. */
export function parseDurationMs(raw: string): number {
  const text = raw.trim();
  const simple = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text);
  if (simple) {
    const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[simple[2] ?? "s"] ?? 1_000;
    return Number(simple[1]) * unit;
  }
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (iso && text !== "P" && text !== "PT") {
    const [, d, h, m, s] = iso;
    return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(m ?? 0)) * 60_000 + Number(s ?? 0) * 1_000;
  }
  throw new InvalidArgumentError(`"${raw}" is not a duration (e.g. 90s, 15m, 2h, 1d or PT15M)`);
}

/** An ISO time, or a duration meaning "that long ago" (e.g. 1h). */
export function parseSince(raw: string, now: Date = new Date()): string {
  const time = Date.parse(raw);
  if (/^\d{4}-\d{2}-\d{2}/.test(raw) && !Number.isNaN(time)) return new Date(time).toISOString();
  try {
    return new Date(now.getTime() - parseDurationMs(raw)).toISOString();
  } catch {
    throw new InvalidArgumentError(`"${raw}" is neither a time (2026-11-29T10:00:00Z) nor a duration ago (1h, 30m)`);
  }
}

const parsePhase = (raw: string): number => {
  if (!/^\d+$/.test(raw)) throw new InvalidArgumentError(`"${raw}" is not a phase index (0, 1, 2 …)`);
  return Number(raw);
};

const parseCount = (raw: string): number => {
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new InvalidArgumentError(`"${raw}" is not a positive integer`);
  return Number(raw);
};

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function splitPair(pair: string, flag: string): [string, string] {
  const at = pair.indexOf("=");
  if (at <= 0) throw new CliError("USAGE", `${flag} ${pair}: expected name=value`, EXIT.usage);
  return [pair.slice(0, at), pair.slice(at + 1)];
}

function readDocument(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError("USAGE", `cannot read ${path}: ${(error as Error).message}`, EXIT.usage);
  }
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

function currentPhase(release: ReleaseView): ReleaseView["phases"][number] | undefined {
  return release.phases.find((phase) => phase.index === release.currentPhaseIndex);
}

/** One line saying where a release is: printed while waiting, one per change. */
function progressLine(release: ReleaseView): string {
  const phase = currentPhase(release);
  const where = phase === undefined ? "" : ` — phase #${phase.index} ${phase.name}: ${phase.status}`;
  return `${new Date().toISOString().slice(11, 19)} ${release.id} ${release.status}${where}\n`;
}

export function buildProgram(io: Io, result: { exitCode: number } = { exitCode: 0 }): Command {
  const program = new Command();
  const connect = (command: Command): Connection =>
    connectionFromEnv(io.env, (command.optsWithGlobals() as GlobalOptions).url);
  const asJson = (command: Command): boolean => (command.optsWithGlobals() as GlobalOptions).json === true;

  program
    .name("rp")
    .description(
      "Release pipelines from a terminal or a CI job, over the service's GraphQL API.\n" +
        "Needs RP_URL (the service's base URL, e.g. http://localhost:4000) and RP_TOKEN (an API token's secret).",
    )
    .version(packageVersion(), "-V, --version", "print rp's version (the checkout's package version)")
    .option("--json", "print the API's data as JSON (errors as JSON on stderr)")
    .option("--url <url>", "the service's base URL (default: $RP_URL)")
    .showHelpAfterError("(rp --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  program
    .command("releases")
    .description("list releases, newest first (every project the token sees, or one)")
    .option("--project <id>", "only this project's releases")
    .addOption(new Option("--status <status>", "only releases in this status").choices(RELEASE_STATUSES))
    .action(async (options: { project?: string; status?: string }, command: Command) => {
      const connection = connect(command);
      const variables = { status: options.status ?? null };
      let releases: ReleaseSummary[];
      if (options.project !== undefined) {
        const data = await request<{ project: { releases: ReleaseSummary[] } | null }>(connection, PROJECT_RELEASES, {
          ...variables,
          id: options.project,
        });
        if (data.project === null) throw new CliError("NOT_FOUND", `project ${options.project} not found`, EXIT.failed);
        releases = data.project.releases;
      } else {
        const data = await request<{ projects: { releases: ReleaseSummary[] }[] }>(connection, ALL_RELEASES, variables);
        releases = data.projects.flatMap((project) => project.releases);
      }
      releases = [...releases].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
      io.stdout(asJson(command) ? json(releases) : `${renderReleaseList(releases)}\n`);
    });

  const release = program
    .command("release")
    .description("show one release as a phase timeline (live with --watch); `rp release wait` waits for one")
    .argument("<id>", "the release id (<featureId>.<n>)")
    .option("--watch", "follow it live (graphql-ws) until it completes or is aborted")
    .action(async (id: string, options: { watch?: boolean }, command: Command) => {
      const connection = connect(command);
      const first = await fetchRelease(connection, id, EXIT.failed);
      if (!options.watch) {
        io.stdout(asJson(command) ? json(first) : `${renderRelease(first)}\n`);
        return;
      }
      await watch(connection, first, asJson(command));
    });

  release
    .command("wait")
    .description(
      "wait for a release to reach a state (for CI): exit 0 when it does, 1 when it is aborted, 2 on timeout, " +
        "3 when it ends otherwise (completed before the awaited state), 4 when the service cannot be asked, 5 on an API error",
    )
    .argument("<id>", "the release id")
    .addOption(
      new Option("--until <state>", "the state to wait for").choices(WAIT_TARGETS).default("COMPLETED" as WaitTarget),
    )
    .option("--timeout <duration>", "give up after this long (90s, 15m, 2h, PT1H)", parseDurationMs)
    .action(async (id: string, options: { until: WaitTarget; timeout?: number }, command: Command) => {
      const connection = connect(command);
      const code = await waitFor(connection, id, options.until, options.timeout ?? null, asJson(command));
      result.exitCode = code;
    });

  for (const name of Object.keys(ACTIONS) as ActionName[]) {
    const spec = ACTIONS[name];
    const verb = {
      approve: "approve the current phase (APPROVER)",
      pause: "pause the current phase's bake timer (EDITOR)",
      unpause: "resume a paused bake timer (EDITOR)",
      skip: "end the current phase's wait now; approvals still apply (EDITOR)",
      abort: "abort: every rolled-out target returns to its pre-release definition (EDITOR)",
      "full-rollout": "roll every remaining phase out now, bypassing waits and approvals (APPROVER)",
      "break-glass":
        "roll the current phase out despite a freeze or a closed promotion window; approvals still apply (ADMIN, --reason required)",
    }[name];
    program
      .command(name)
      .description(verb)
      .argument("<id>", "the release id")
      .option(
        `--reason <text>`,
        spec.text === "comment" ? "a comment recorded with the approval" : "why, recorded in the audit log",
      )
      .option(
        "--phase <n>",
        spec.phaseIndex
          ? "refuse (INVALID_STATE) unless phase n is still the current phase"
          : "refuse unless phase n is still the current phase (checked by the CLI just before)",
        parsePhase,
      )
      .action(async (id: string, options: { reason?: string; phase?: number }, command: Command) => {
        const connection = connect(command);
        if (!spec.phaseIndex && options.phase !== undefined) {
          const now = await fetchRelease(connection, id, EXIT.failed);
          if (now.currentPhaseIndex !== options.phase) {
            throw new CliError(
              "INVALID_STATE",
              `phase ${options.phase} is not the current phase of release ${id} (current: ${now.currentPhaseIndex ?? `none, ${now.status}`})`,
              EXIT.failed,
            );
          }
        }
        const variables: Record<string, unknown> = { id, text: options.reason ?? null };
        if (spec.phaseIndex) variables.phaseIndex = options.phase ?? null;
        const data = await request<Record<string, ReleaseView>>(connection, actionDocument(name), variables, {
          idempotencyKey: newIdempotencyKey(),
        });
        const answer = data[spec.mutation] as ReleaseView;
        io.stdout(asJson(command) ? json(answer) : `${spec.mutation}: done\n${renderRelease(answer)}\n`);
      });
  }

  program
    .command("rollback")
    .description(
      "undo the phases after a rolled-out phase (their targets go back to before) and go on from the next one (EDITOR)",
    )
    .argument("<id>", "the release id")
    .requiredOption("--to <n>", "the rolled-out phase to go back to (it stays rolled out)", parsePhase)
    .option("--reason <text>", "why, recorded in the audit log")
    .action(async (id: string, options: { to: number; reason?: string }, command: Command) => {
      const connection = connect(command);
      const variables = { id, phaseIndex: options.to, text: options.reason ?? null };
      const data = await request<{ rollbackToPhase: ReleaseView }>(connection, ROLLBACK, variables, {
        idempotencyKey: newIdempotencyKey(),
      });
      io.stdout(
        asJson(command)
          ? json(data.rollbackToPhase)
          : `rollbackToPhase: done\n${renderRelease(data.rollbackToPhase)}\n`,
      );
    });

  program
    .command("audit")
    .description("read the audit log, newest first")
    .option("--entity <id>", "only events of this entity (project, pipeline, feature, release or token id)")
    .option("--since <time|duration>", "only events at or after a time (ISO-8601) or this long ago (1h, 30m)", (raw) =>
      parseSince(raw),
    )
    .option("--project <id>", "only this project's events")
    .option("--type <type...>", "only these event types (e.g. ReleasePhaseApproved)")
    .option("--actor <name>", "only events by this actor (a token name, or system)")
    .option("--limit <n>", "at most this many events (default 50)", parseCount, 50)
    .action(
      async (
        options: { entity?: string; since?: string; project?: string; type?: string[]; actor?: string; limit: number },
        command: Command,
      ) => {
        const connection = connect(command);
        const filter: Record<string, unknown> = {};
        if (options.entity !== undefined) filter.entityId = options.entity;
        if (options.since !== undefined) filter.from = options.since;
        if (options.project !== undefined) filter.projectId = options.project;
        if (options.type !== undefined) filter.types = options.type;
        if (options.actor !== undefined) filter.actor = options.actor;
        const events: AuditEventView[] = [];
        let after: string | null = null;
        while (events.length < options.limit) {
          const data: {
            auditLog: {
              edges: { node: AuditEventView }[];
              pageInfo: { hasNextPage: boolean; endCursor: string | null };
            };
          } = await request(connection, AUDIT_LOG, {
            filter,
            first: Math.min(500, options.limit - events.length),
            after,
            order: "DESC",
          });
          events.push(...data.auditLog.edges.map((edge) => edge.node));
          if (!data.auditLog.pageInfo.hasNextPage || data.auditLog.pageInfo.endCursor === null) break;
          after = data.auditLog.pageInfo.endCursor;
        }
        io.stdout(asJson(command) ? json(events) : `${renderAudit(events)}\n`);
      },
    );

  program
    .command("api")
    .description(
      "send any GraphQL request (like `gh api graphql`) and print the answer's data as JSON; the query may be @file.graphql",
    )
    .argument("<query>", "a GraphQL document, or @path to read one from a file")
    .option("-f, --field <name=value>", "a string variable (repeatable)", collect, [])
    .option(
      "-F, --json-field <name=json>",
      "a variable given as JSON: numbers, booleans, objects, lists (repeatable)",
      collect,
      [],
    )
    .option("--pick <path>", "print only this field of the data, e.g. createProject.id (strings unquoted)")
    .action(
      async (query: string, options: { field: string[]; jsonField: string[]; pick?: string }, command: Command) => {
        const connection = connect(command);
        const document = query.startsWith("@") ? readDocument(query.slice(1)) : query;
        const variables: Record<string, unknown> = {};
        for (const pair of options.field) {
          const [name, value] = splitPair(pair, "-f");
          variables[name] = value;
        }
        for (const pair of options.jsonField) {
          const [name, value] = splitPair(pair, "-F");
          try {
            variables[name] = JSON.parse(value);
          } catch (error) {
            throw new CliError("USAGE", `-F ${name}: not JSON (${(error as Error).message})`, EXIT.usage);
          }
        }
        const data = await request<Record<string, unknown>>(connection, document, variables);
        if (options.pick === undefined) {
          io.stdout(json(data));
          return;
        }
        let value: unknown = data;
        for (const key of options.pick.split(".")) {
          value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
        }
        if (value === undefined)
          throw new CliError("USAGE", `--pick ${options.pick}: no such field in the answer`, EXIT.usage);
        io.stdout(typeof value === "string" ? `${value}\n` : json(value));
      },
    );

  async function fetchRelease(connection: Connection, id: string, errorExit: number): Promise<ReleaseView> {
    const data = await request<{ release: ReleaseView | null }>(connection, RELEASE, { id }, { errorExit });
    if (data.release === null) throw new CliError("NOT_FOUND", `release ${id} not found`, errorExit);
    return data.release;
  }

  /** Redraws the timeline on each change (and every second on a terminal, for the countdowns). */
  async function watch(connection: Connection, first: ReleaseView, asJsonLines: boolean): Promise<void> {
    let last = first;
    const draw = (release: ReleaseView): void => {
      if (asJsonLines) io.stdout(`${JSON.stringify(release)}\n`);
      else if (io.isTTY) io.stdout(`\x1b[2J\x1b[H${renderRelease(release)}\n\n(watching live; Ctrl-C to stop)\n`);
      else io.stdout(`--- ${new Date().toISOString()}\n${renderRelease(release)}\n`);
    };
    if (first.status !== "IN_PROGRESS") {
      draw(first);
      return;
    }
    const ticker = io.isTTY && !asJsonLines ? setInterval(() => draw(last), 1_000) : null;
    const subscription = subscribe<{ releaseUpdated: ReleaseView }>(
      connection,
      RELEASE_UPDATED,
      { id: first.id },
      (data) => {
        const release = data.releaseUpdated;
        if (release.version === last.version && release.status === last.status && last !== first) return;
        last = release;
        draw(release);
        if (release.status !== "IN_PROGRESS") subscription.stop();
      },
    );
    try {
      await subscription.done;
    } finally {
      if (ticker !== null) clearInterval(ticker);
    }
  }

  function reached(release: ReleaseView, until: WaitTarget): number | null {
    if (release.status === until) return EXIT.ok;
    if (until === "AWAITING_APPROVAL" && currentPhase(release)?.status === "AWAITING_APPROVAL") return EXIT.ok;
    if (release.status === "ABORTED") return EXIT.failed;
    if (release.status === "COMPLETED") return EXIT.otherEnd;
    return null;
  }

  async function waitFor(
    connection: Connection,
    id: string,
    until: WaitTarget,
    timeoutMs: number | null,
    asJsonOutput: boolean,
  ): Promise<number> {
    const report = (release: ReleaseView, code: number, outcome: string): number => {
      if (asJsonOutput) io.stdout(json({ outcome, exitCode: code, release }));
      else
        io.stdout(
          `${outcome}: release ${release.id} is ${release.status}${release.abortReason ? ` (${release.abortReason})` : ""}\n`,
        );
      return code;
    };
    const first = await fetchRelease(connection, id, EXIT.waitError);
    const now = reached(first, until);
    if (now !== null) return report(first, now, now === EXIT.ok ? until : first.status);
    let last = first;
    let lastLine = progressLine(first);
    if (!asJsonOutput) io.stderr(lastLine);
    let result: number | null = null;
    const subscription = subscribe<{ releaseUpdated: ReleaseView }>(
      connection,
      RELEASE_UPDATED,
      { id },
      (data) => {
        last = data.releaseUpdated;
        const line = progressLine(last);
        if (!asJsonOutput && line.slice(9) !== lastLine.slice(9)) io.stderr(line);
        lastLine = line;
        const code = reached(last, until);
        if (code !== null && result === null) {
          result = code;
          subscription.stop();
        }
      },
      { errorExit: EXIT.waitError },
    );
    let timer: NodeJS.Timeout | null = null;
    const timedOut =
      timeoutMs === null
        ? new Promise<never>(() => {})
        : new Promise<"timeout">((resolve) => {
            timer = setTimeout(() => resolve("timeout"), timeoutMs);
          });
    const outcome = await Promise.race([subscription.done.then(() => "done" as const), timedOut]);
    if (timer !== null) clearTimeout(timer);
    if (outcome === "timeout" && result === null) {
      subscription.stop();
      return report(last, EXIT.timeout, `timed out waiting for ${until}`);
    }
    if (result === null) {
      // The server ended the subscription without a final state: ask once more.
      const again = await fetchRelease(connection, id, EXIT.waitError);
      const code = reached(again, until);
      if (code === null)
        throw new CliError("INTERNAL", "the live subscription ended early; run the command again", EXIT.waitError);
      return report(again, code, code === EXIT.ok ? until : again.status);
    }
    return report(last, result, result === EXIT.ok ? until : last.status);
  }

  return program;
}

/** Runs the CLI; resolves to the exit code (0 ok; see EXIT). */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const result = { exitCode: EXIT.ok as number };
  const program = buildProgram(io, result);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return result.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version "exit" with 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const asJson = argv.includes("--json");
    if (error instanceof CliError) {
      if (asJson) io.stderr(json({ error: { code: error.code, message: error.message, hint: error.hint ?? null } }));
      else io.stderr(`rp: ${error.code}: ${error.message}\n${error.hint ? `${error.hint}\n` : ""}`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(asJson ? json({ error: { code: "INTERNAL", message } }) : `rp: INTERNAL: ${message}\n`);
    return EXIT.failed;
  }
}

if (import.meta.main) {
  const code = await run(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
  });
  process.exit(code);
}
