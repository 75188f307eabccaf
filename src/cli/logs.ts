import { usageError } from "../errors.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { awsStage } from "./deployment.ts";
import { Output } from "./output.ts";

/** The processes' logs from CloudWatch Logs, interleaved by time and prefixed by process. */
export const logs: Command = {
  async run(args) {
    const { values, positionals } = parse("logs", args, { stage: { type: "string" }, target: { type: "string" }, follow: { type: "boolean", short: "f" }, since: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const sinceMinutes = Number(values.since ?? 60);
    if (!Number.isFinite(sinceMinutes) || sinceMinutes <= 0) throw usageError(`--since: expected minutes, got "${values.since}"`);
    const { formation, clients, functionName } = await awsStage(flags, values);
    const wanted = positionals.length ? positionals : formation.processes.map((p) => p.name);
    for (const name of wanted) {
      if (!formation.processes.some((p) => p.name === name)) throw usageError(`no process named "${name}"; processes: ${formation.processes.map((p) => p.name).join(", ")}`);
    }
    const width = Math.max(...wanted.map((n) => n.length));
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
        if (out.json) out.line(JSON.stringify({ process: e.process, time: new Date(e.timestamp).toISOString(), message: e.message }));
        else out.line(`${out.dim(new Date(e.timestamp).toISOString())} ${out.paint("36", e.process.padEnd(width))} | ${e.message}`);
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
