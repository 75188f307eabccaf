import type { CapChange, ConnectOptions, DeployedStage, ProcessStatus } from "../../src/adapter.ts";
import { failure, usageError } from "../../src/errors.ts";
import { queueName, resourceName } from "../../src/formation/names.ts";
import type { Formation } from "../../src/formation/types.ts";
import { cloudflareApi } from "./client.ts";
import { cloudflareDeployment, wranglerEnv } from "./deploy.ts";
import { cloudflareDeadLetters } from "./dlq.ts";
import { tailLogs } from "./logs.ts";
import { readDeployed } from "./resources.ts";
import type { Body, MessagePushParams } from "./api-types.ts";
import { consumerScript, workerConsumer, type ConsumerBody } from "./resources/consumer.ts";
import { findQueue, listQueues, queueBacklog } from "./resources/queue.ts";
import { accountSubdomain, workersDevUrl, type WorkerResource } from "./resources/worker.ts";
import { clockLastRun, clockWorkerUrl, runClockNow } from "./clock-route.ts";

/** One app's stage on Cloudflare: the token and account come from the environment, checked first. */
export async function cloudflareStage(formation: Formation, stage: string, options: ConnectOptions): Promise<DeployedStage> {
  const api = cloudflareApi(options.env, formation.cloudflare.accountId, options.note);
  const workerName = (process: string) => resourceName(formation.app, stage, process);
  const notDeployed = (process: string) => failure(`${process} is not deployed to stage ${stage}`, "Run twelve deploy first.");

  return {
    where: `Cloudflare (account ${api.accountId})`,
    place: { account: api.accountId },
    deployment: (build, secrets) => cloudflareDeployment(formation, stage, build, secrets, { api, env: options.env, debug: options.debug }),

    /** Workers, their consumers' caps, workers.dev URLs and queue backlogs, read in parallel. */
    async ps() {
      const names = formation.processes.map((p) => workerName(p.name));
      const notes: string[] = [];
      const [deployed, subdomain] = await Promise.all([readDeployed(api, formation.app, stage, names), accountSubdomain(api)]);
      const processes = await Promise.all(
        formation.processes.map(async (process): Promise<ProcessStatus> => {
          const name = workerName(process.name);
          const queue = queueName(formation.app, stage, process.name);
          const worker = deployed.resources.find((r) => r.kind === "worker" && r.name === name);
          const consumer = deployed.resources.find((r) => r.kind === "consumer" && r.name === queue);
          const queueId = deployed.queueIds[queue];
          const lastRun = process.type === "clock" && worker?.kind === "worker" ? await clockLastRun(process.name, worker, subdomain, options.env, notes) : null;
          return {
            process: process.name,
            type: process.type,
            resource: name,
            deployed: worker !== undefined,
            cap: consumer?.kind === "consumer" ? consumer.maxConcurrency : null,
            state: worker ? "deployed" : "not deployed",
            lastChange: worker?.kind === "worker" ? worker.modifiedOn || null : null,
            // A clock answers on workers.dev too, but only to twelve (its run token): no URL to show.
            url: process.type === "web" && worker?.kind === "worker" && worker.workersDev && subdomain ? workersDevUrl(name, subdomain) : null,
            lastRun,
            queueDepth: process.type === "worker" && queueId ? await queueBacklog(api, queueId) : null,
          };
        }),
      );
      if (formation.processes.some((p) => p.type === "web")) notes.unshift("Cloudflare has no cap on a web Worker's concurrent requests: CAP shows none");
      return { processes, notes };
    },

    /** A worker's queue consumer gets the new max_concurrency, its other settings as they are. */
    async scale(requests, report) {
      const queues = await listQueues(api);
      const changed: CapChange[] = [];
      for (const { process, cap } of requests) {
        const queue = queues.find((q) => q.queue_name === queueName(formation.app, stage, process.name));
        const consumer = queue && workerConsumer(queue);
        if (!queue || !consumer || consumerScript(consumer) !== workerName(process.name)) throw notDeployed(process.name);
        const body: ConsumerBody = {
          type: "worker",
          script_name: workerName(process.name),
          dead_letter_queue: consumer.dead_letter_queue ?? "",
          settings: { ...consumer.settings, max_concurrency: cap },
        };
        await api.send("PUT", `/queues/${queue.queue_id}/consumers/${consumer.consumer_id}`, body);
        const change = { process: process.name, from: consumer.settings?.max_concurrency ?? null, to: cap };
        changed.push(change);
        report(change);
      }
      return changed;
    },

    /** Live only: one `wrangler tail` per process. Cloudflare's tail has no history to read. */
    logs(processes, logOptions, output) {
      if (!logOptions.follow) {
        throw usageError(
          "on Cloudflare, logs are live only: wrangler tail streams them as they happen, with no history to read",
          "Run twelve logs --follow (Ctrl-C stops it). Past logs are in the dashboard's Workers Logs (observability is on for every Worker twelve deploys).",
        );
      }
      if (logOptions.sinceMinutes !== undefined) throw usageError("--since: Cloudflare's live tail has no history to start from", "Drop --since; twelve logs --follow shows what happens from now on.");
      return tailLogs(processes.map((process) => ({ process, worker: workerName(process) })), wranglerEnv(options.env, api), output);
    },

    deadLetters: cloudflareDeadLetters(api, formation, stage),

    /**
     * A worker: one message through the Queues API. A clock: Cloudflare has no API to fire a
     * Cron Trigger, so twelve asks the clock's Worker itself, at its own route (runtime/clock.ts),
     * which runs it under the same lease as its crons: skipped while a run is going.
     */
    async run(process, body) {
      if (process.type === "clock") {
        const name = workerName(process.name);
        const [deployed, subdomain] = await Promise.all([readDeployed(api, formation.app, stage, [name]), accountSubdomain(api)]);
        const worker = deployed.resources.find((r): r is WorkerResource => r.kind === "worker" && r.name === name);
        if (!worker) throw notDeployed(process.name);
        if (!worker.runToken) throw failure(`${process.name}'s Worker has no run token: it was deployed by a twelve without twelve run for Cloudflare clocks`, `Run twelve deploy --stage ${stage}, then run it again.`);
        const url = clockWorkerUrl(name, subdomain, options.env);
        if (!url) throw failure(`the account has no workers.dev subdomain: ${process.name}'s Worker cannot be reached`, "Choose one on the dashboard (Workers & Pages, Subdomain), then run it again.");
        await runClockNow(process.name, url, worker.runToken);
        return { fired: process.name };
      }
      const queue = await findQueue(api, queueName(formation.app, stage, process.name));
      if (!queue) throw notDeployed(process.name);
      // content_type json: the consumer gets the parsed body, as from send().
      const message: Body<MessagePushParams.MqQueueMessageJson> = { body, content_type: "json" };
      await api.send("POST", `/queues/${queue.queue_id}/messages`, message);
      return { sent: process.name, id: null, detail: `queue ${queue.queue_name}` };
    },
  };
}
