import { usageError } from "../errors.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { awsStage, cloudflareStage, stageFormation } from "./deployment.ts";
import { Output } from "./output.ts";

/**
 * The processes' logs, prefixed by process: from CloudWatch Logs on AWS (interleaved by time),
 * from `wrangler tail` on Cloudflare (live).
 */
export const logs: Command = {
  async run(args) {
    const { values, positionals } = parse("logs", args, { stage: { type: "string" }, target: { type: "string" }, follow: { type: "boolean", short: "f" }, since: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const sinceMinutes = Number(values.since ?? 60);
    if (!Number.isFinite(sinceMinutes) || sinceMinutes <= 0) throw usageError(`--since: expected minutes, got "${values.since}"`);
    const { formation, stage } = await stageFormation(flags, values);
    const wanted = positionals.length ? positionals : formation.processes.map((p) => p.name);
    for (const name of wanted) {
      if (!formation.processes.some((p) => p.name === name)) throw usageError(`no process named "${name}"; processes: ${formation.processes.map((p) => p.name).join(", ")}`);
    }
    const width = Math.max(...wanted.map((n) => n.length));
    const print = (process: string, timestamp: number, message: string) => {
      if (out.json) out.line(JSON.stringify({ process, time: new Date(timestamp).toISOString(), message }));
      else out.line(`${out.dim(new Date(timestamp).toISOString())} ${out.paint("36", process.padEnd(width))} | ${message}`);
    };
    if (formation.target === "cloudflare") {
      if (!values.follow) throw usageError("on Cloudflare, logs are live only: wrangler tail streams them as they happen, with no history to read", "Run twelve logs --follow (Ctrl-C stops it). Past logs are in the dashboard's Workers Logs (observability is on for every Worker twelve deploys).");
      if (values.since !== undefined) throw usageError("--since: Cloudflare's live tail has no history to start from", "Drop --since; twelve logs --follow shows what happens from now on.");
      const { tailLogs } = await import("../../adapters/cloudflare/tail.ts");
      const { api, workerName } = await cloudflareStage(formation, stage);
      const { wranglerEnv } = await import("../../adapters/cloudflare/deploy.ts");
      return tailLogs(wanted.map((name) => ({ process: name, worker: workerName(name) })), wranglerEnv(process.env, api), {
        print,
        note: (text) => out.note(text),
      });
    }
    const { clients, functionName } = await awsStage(formation, stage);
    let since = Date.now() - sinceMinutes * 60_000;
    const seen = new Set<string>();

    const fetchOnce = async () => {
      const events = (
        await Promise.all(
          wanted.map(async (name) => {
            const group = `/aws/lambda/${functionName(name)}`;
            const found: { process: string; timestamp: number; message: string; id: string }[] = [];
            let token: string | undefined;
            do {
              const page = await clients.logs
                .send(new clients.sdk.logs.FilterLogEventsCommand({ logGroupName: group, startTime: since, nextToken: token }))
                .catch((error: Error) => {
                  if (error.name === "ResourceNotFoundException") return { events: [], nextToken: undefined };
                  throw error;
                });
              for (const e of page.events ?? []) found.push({ process: name, timestamp: e.timestamp ?? 0, message: (e.message ?? "").trimEnd(), id: e.eventId ?? `${e.timestamp}${e.message}` });
              token = page.nextToken;
            } while (token);
            return found;
          }),
        )
      )
        .flat()
        .filter((e) => !seen.has(e.id))
        .sort((a, b) => a.timestamp - b.timestamp);
      for (const e of events) {
        seen.add(e.id);
        since = Math.max(since, e.timestamp);
        print(e.process, e.timestamp, e.message);
      }
    };

    await fetchOnce();
    if (!values.follow) return 0;
    // Follow until interrupted: new events every two seconds.
    return new Promise<number>((resolve) => {
      const timer = setInterval(() => void fetchOnce().catch((error: Error) => out.note(`could not read logs: ${error.message}`)), 2000);
      process.once("SIGINT", () => {
        clearInterval(timer);
        resolve(0);
      });
    });
  },
};
