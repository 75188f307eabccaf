import type { Formation, Process } from "../../src/formation/types.ts";
import type { Problem } from "../../src/formation/problems.ts";
import { writeArtifact } from "../../src/build/artifacts.ts";
import type { Adapter, PackageInput, PackagedProcess } from "../../src/adapter.ts";
import { RUN_TOKEN_SECRET } from "./runtime/clock.ts";
import { LEASE_CLASS } from "./runtime/clock-lease.ts";
import { cronTriggerNote, wranglerConfig } from "./wrangler.ts";

const WRAPPERS = {
  web: { module: "adapters/cloudflare/runtime/web", factory: "webWorker" },
  worker: { module: "adapters/cloudflare/runtime/worker", factory: "queueWorker" },
  // The clock's Worker also exports the Durable Object class that holds its lease (runtime/clock-lease.ts).
  clock: { module: "adapters/cloudflare/runtime/clock", factory: "scheduledWorker", exports: [LEASE_CLASS] },
} as const;

/** What a build does for Cloudflare: an ES module Worker and its wrangler.json per process. */
export const cloudflareBuild: Pick<Adapter, "check" | "bundleOptions" | "package" | "scheduleOf"> = {
  check(formation: Formation): Problem[] {
    // Every valid crontab and time zone can be held: see schedule.ts and runtime/clock-gate.ts.
    // A clock's Worker holds twelve's own secret: a variable of that name would be shadowed.
    const problems: Problem[] = [];
    const index = formation.secrets.indexOf(RUN_TOKEN_SECRET);
    if (index >= 0) problems.push({ path: `secrets[${index}]`, message: `${RUN_TOKEN_SECRET} is twelve's own secret on Cloudflare (the clocks' run token); name yours otherwise` });
    for (const p of formation.processes) {
      if (RUN_TOKEN_SECRET in p.env) problems.push({ path: `processes.${p.name}.env.${RUN_TOKEN_SECRET}`, message: `${RUN_TOKEN_SECRET} is twelve's own secret on Cloudflare (the clocks' run token); name yours otherwise` });
    }
    return problems;
  },

  bundleOptions(process: Process) {
    return {
      wrapper: WRAPPERS[process.type],
      exportAs: "default" as const,
      fileName: "index.js",
      options: {
        platform: "neutral",
        target: "es2024",
        conditions: ["workerd", "worker", "browser"],
        mainFields: ["browser", "module", "main"],
        // Provided by workerd itself (node: through the nodejs_compat flag).
        external: ["cloudflare:*", "node:*"],
        define: { "process.env.NODE_ENV": '"production"' },
      },
    };
  },

  async package({ formation, process, stage, bundle, sends, outDir }: PackageInput): Promise<PackagedProcess> {
    const dir = process.name;
    const config = wranglerConfig(formation, process, stage, sends, "index.js");
    const artifacts = {
      bundle: await writeArtifact(outDir, `${dir}/index.js`, bundle.code),
      sourcemap: await writeArtifact(outDir, `${dir}/index.js.map`, bundle.map),
      wrangler: await writeArtifact(outDir, `${dir}/wrangler.json`, `${JSON.stringify(config, null, 2)}\n`),
    };
    const notes: string[] = [];
    if (process.type === "web") {
      notes.push(`${process.name}: Cloudflare has no cap on concurrent requests; concurrency ${process.concurrency} is not enforced there`);
    }
    if (process.type === "clock" && process.timezone !== "UTC" && process.timezone !== "Etc/UTC") {
      notes.push(`${process.name}: Cloudflare crons are UTC-only; "${process.schedule}" ${process.timezone} fires at ${config.triggers.crons.join(", ")} UTC and runs only when it is the scheduled local time`);
    }
    // Said once for the formation, with the first clock: the account's Cron Triggers it takes.
    if (process.type === "clock" && formation.processes.find((p) => p.type === "clock") === process) notes.push(cronTriggerNote(formation));
    const platform: Record<string, unknown> = { workerName: config.name, crons: config.triggers.crons };
    return { artifacts, platform, notes };
  },

  scheduleOf: (process) => ((process.platform.crons as string[] | undefined) ?? []).join(" "),
};
