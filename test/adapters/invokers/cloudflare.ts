import fs from "node:fs";
import path from "node:path";
import { Miniflare, type Response as MiniflareResponse } from "miniflare";
import type { WranglerConfig } from "../../../adapters/cloudflare/wrangler.ts";
import { miniflareWorker } from "../../support/miniflare-worker.ts";
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
