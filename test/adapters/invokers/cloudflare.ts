import fs from "node:fs";
import path from "node:path";
import { Miniflare, type MiniflareWorkerConfig, type Response as MiniflareResponse, type WorkerOptions } from "miniflare";
import type { WranglerConfig } from "../../../adapters/cloudflare/wrangler.ts";
import { buildProject } from "../../support/project.ts";
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
  const { formation, outDir, manifest } = await buildProject(dir, "cloudflare");

  const configs: Record<string, WranglerConfig> = {};
  const workers = manifest.processes.map((p) => {
    const config = JSON.parse(fs.readFileSync(path.join(outDir, p.artifacts.wrangler!.path), "utf8")) as WranglerConfig;
    configs[p.name] = config;
    return miniflareWorker(config, fs.readFileSync(path.join(outDir, p.artifacts.bundle!.path), "utf8"), { REPORT_URL: reports.url });
  });
  const mf = new Miniflare({ cf: false, enableDevRegistry: false, workers });
  await mf.ready;

  return {
    target: "cloudflare",
    mf,
    configs,
    reports,
    async fetch(urlPath, init) {
      const web = await mf.getWorker(configs.web!.name);
      // The Invoker speaks lib.dom's fetch types and miniflare undici's, which do not take each
      // other's bodies (a DOM ArrayBufferView is not a NodeJS one): hand over the request's parts.
      const request = new Request(`https://conf-dev-web.example.workers.dev${urlPath}`, init);
      const body = request.body ? await request.arrayBuffer() : null;
      return domResponse(await web.fetch(request.url, { method: request.method, headers: [...request.headers], body }));
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

/**
 * miniflare answers with undici's Response, at run time the same Fetch API object as lib.dom's.
 * The two published types differ only in the Headers iterator (lib.dom's declares
 * [Symbol.dispose], undici's does not), so a plain annotation fails; this is the one crossing.
 */
function domResponse(response: MiniflareResponse): Response {
  return response as unknown as Response;
}

/** A Miniflare 5 worker from twelve's wrangler.json; batches flush at once so tests stay quick. */
function miniflareWorker(config: WranglerConfig, code: string, vars: Record<string, string>): WorkerOptions {
  const env: NonNullable<MiniflareWorkerConfig["env"]> = {};
  for (const [name, value] of Object.entries({ ...config.vars, ...vars })) env[name] = { type: "text", value };
  for (const p of config.queues?.producers ?? []) env[p.binding] = { type: "queue", name: p.queue };
  const triggers: MiniflareWorkerConfig["triggers"] = [
    ...(config.queues?.consumers ?? []).map((c) => ({
      type: "queue" as const,
      name: c.queue,
      maxBatchSize: c.max_batch_size,
      maxBatchTimeout: 0,
      maxRetries: c.max_retries,
      deadLetterQueue: c.dead_letter_queue,
      maxConcurrency: c.max_concurrency,
    })),
    ...config.triggers.crons.map((schedule) => ({ type: "scheduled" as const, schedule })),
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
