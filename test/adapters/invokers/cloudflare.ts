import fs from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import type { WranglerConfig } from "../../../adapters/cloudflare/wrangler.ts";
import { buildFormation } from "../../../src/build/build.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { copyFixture, removeProject } from "../../support/project.ts";
import { startReportServer } from "../../support/report-server.ts";
import type { Invoker } from "./types.ts";

/**
 * The conformance app built for Cloudflare and run in workerd through miniflare, each Worker
 * set up from the wrangler.json twelve generated for it (bindings, consumers, crons).
 */
export async function cloudflareInvoker(): Promise<Invoker & { mf: Miniflare; configs: Record<string, WranglerConfig> }> {
  const dir = copyFixture("conformance");
  const reports = await startReportServer();
  const { formation } = await loadConfig({ cwd: dir, target: "cloudflare" });
  const { outDir, manifest } = await buildFormation(formation, { stage: "dev" });

  const configs: Record<string, WranglerConfig> = {};
  const workers = manifest.processes.map((p) => {
    const config = JSON.parse(fs.readFileSync(path.join(outDir, p.artifacts.wrangler!.path), "utf8")) as WranglerConfig;
    configs[p.name] = config;
    return miniflareWorker(config, fs.readFileSync(path.join(outDir, p.artifacts.bundle!.path), "utf8"), { REPORT_URL: reports.url });
  });
  const mf = new Miniflare({ cf: false, enableDevRegistry: false, workers } as never);
  await mf.ready;

  return {
    target: "cloudflare",
    mf,
    configs,
    reports,
    async fetch(urlPath, init) {
      const web = await mf.getWorker(configs.web!.name);
      return (await web.fetch(`https://conf-dev-web.example.workers.dev${urlPath}`, init as never)) as unknown as Response;
    },
    async fireClock(scheduledTime) {
      const tick = await mf.getWorker(configs.tick!.name);
      for (const cron of configs.tick!.triggers.crons) await tick.scheduled({ cron, scheduledTime: new Date(scheduledTime) });
    },
    async close() {
      await mf.dispose();
      await reports.close();
      removeProject(dir);
    },
  };
}

/** A Miniflare 5 worker from twelve's wrangler.json; batches flush at once so tests stay quick. */
function miniflareWorker(config: WranglerConfig, code: string, vars: Record<string, string>) {
  const env: Record<string, unknown> = {};
  for (const [name, value] of Object.entries({ ...config.vars, ...vars })) env[name] = { type: "text", value };
  for (const p of config.queues?.producers ?? []) env[p.binding] = { type: "queue", name: p.queue };
  const triggers = [
    ...(config.queues?.consumers ?? []).map((c) => ({
      type: "queue",
      name: c.queue,
      maxBatchSize: c.max_batch_size,
      maxBatchTimeout: 0,
      maxRetries: c.max_retries,
      deadLetterQueue: c.dead_letter_queue,
      maxConcurrency: c.max_concurrency,
    })),
    ...config.triggers.crons.map((schedule) => ({ type: "scheduled", schedule })),
  ];
  return {
    config: {
      name: config.name,
      compatibilityDate: config.compatibility_date,
      compatibilityFlags: config.compatibility_flags,
      manifest: { mainModule: config.main, modules: { [config.main]: { type: "esm", contents: code } } },
      env,
      triggers,
    },
  };
}
