import { describe, expect, it } from "vitest";
import type { ManifestProcess } from "../../src/build/manifest.ts";
import { planReload } from "../../src/dev/reload.ts";
import type { SlotSpec } from "../../src/dev/slot.ts";
import type { Process } from "../../src/formation/types.ts";

const web = (concurrency = 2): Process => ({ name: "web", type: "web", entry: "/app/web.ts", entryAsWritten: "web.ts", memory: 128, timeout: 30, env: {}, concurrency });
const jobs: Process = { name: "jobs", type: "worker", entry: "/app/jobs.ts", entryAsWritten: "jobs.ts", memory: 128, timeout: 30, env: {}, concurrency: 2, batchSize: 10, maxRetries: 3 };
const built = (name: string, sha256 = "a", sends: string[] = []): ManifestProcess => ({ name, type: "web", entry: `${name}.ts`, concurrency: 1, sends, env: {}, artifacts: { bundle: { path: `${name}/index.js`, sha256, bytes: 1 } }, platform: {} });
const spec = (process: Process, extra: Partial<SlotSpec> = {}): SlotSpec => ({ process, built: built(process.name), variables: {}, port: process.type === "web" ? 3000 : undefined, ...extra });
const running = (...specs: SlotSpec[]) => new Map(specs.map((s) => [s.process.name, { spec: s, up: true }]));
/** A reload where the given processes' own sources changed (all of them, by default). */
const editing = (...names: string[]) => ({ edited: (name: string) => names.length === 0 || names.includes(name), formationChanged: false });

describe("planReload", () => {
  it("restarts only the process whose bundle changed", () => {
    expect(planReload(running(spec(web()), spec(jobs)), [spec(web(), { built: built("web", "b") }), spec(jobs)], editing("web"))).toEqual({ remove: [], start: ["web"], keep: ["jobs"] });
  });

  it("restarts a process whose settings, variables, sends or port changed, and keeps the others", () => {
    const now = running(spec(web()), spec(jobs));
    expect(planReload(now, [spec(web(5)), spec(jobs)], editing()).start).toEqual(["web"]);
    expect(planReload(now, [spec(web()), spec(jobs, { variables: { KEY: "v" } })], editing()).start).toEqual(["jobs"]);
    expect(planReload(now, [spec(web(), { built: built("web", "a", ["jobs"]) }), spec(jobs)], editing()).start).toEqual(["web"]);
    expect(planReload(now, [spec(web(), { port: 3001 }), spec(jobs)], editing()).start).toEqual(["web"]);
    expect(planReload(now, [spec(web()), spec(jobs)], editing())).toEqual({ remove: [], start: [], keep: ["web", "jobs"] });
  });

  it("starts what is new, removes what left the formation, and starts afresh what is not up (the edit may have fixed it)", () => {
    const now = new Map([["web", { spec: spec(web()), up: false }], ["old", { spec: spec({ ...jobs, name: "old" }), up: true }]]);
    expect(planReload(now, [spec(web()), spec(jobs)], editing())).toEqual({ remove: ["old"], start: ["web", "jobs"], keep: [] });
  });

  it("adding a worker restarts only the processes that may send to it, though every bundle changes (each lists the formation's workers)", () => {
    const mailer: Process = { ...jobs, name: "mailer" };
    const now = running(spec(web(), { built: built("web", "a", ["jobs"]) }), spec(jobs, { built: built("jobs", "a") }), spec({ ...web(), name: "admin" }, { built: built("admin", "a", ["jobs"]), port: 3001 }));
    const next = [
      spec(web(), { built: built("web", "b", ["jobs", "mailer"]) }),
      spec(jobs, { built: built("jobs", "b") }),
      spec({ ...web(), name: "admin" }, { built: built("admin", "b", ["jobs"]), port: 3001 }),
      spec(mailer, { built: built("mailer", "m") }),
    ];
    // Only twelve.config.ts changed: no process's own source.
    expect(planReload(now, next, { edited: () => false, formationChanged: false })).toEqual({ remove: [], start: ["web", "mailer"], keep: ["jobs", "admin"] });
    // The same bundles after an edit of jobs.ts, or a new app name: those restart.
    expect(planReload(now, next, { edited: (name) => name === "jobs", formationChanged: false }).start).toEqual(["web", "jobs", "mailer"]);
    expect(planReload(now, next, { edited: () => false, formationChanged: true }).start).toEqual(["web", "jobs", "admin", "mailer"]);
  });
});
