import type { LogOptions, LogOutput } from "../../src/adapter.ts";
import type { AwsClients } from "./client.ts";

/** How far back `twelve logs` reads without --since, in minutes. */
const DEFAULT_SINCE_MINUTES = 60;

/**
 * `twelve logs` on AWS: each process's CloudWatch log group (`/aws/lambda/<function>`), read
 * in parallel and printed interleaved by time; --follow reads what is new every two seconds
 * until Ctrl-C.
 */
export async function cloudWatchLogs(clients: AwsClients, functions: { process: string; name: string }[], options: LogOptions, output: LogOutput): Promise<number> {
  let since = Date.now() - (options.sinceMinutes ?? DEFAULT_SINCE_MINUTES) * 60_000;
  const seen = new Set<string>();

  const fetchOnce = async () => {
    const events = (await Promise.all(functions.map((fn) => readGroup(clients, fn, since))))
      .flat()
      .filter((e) => !seen.has(e.id))
      .sort((a, b) => a.timestamp - b.timestamp);
    for (const e of events) {
      seen.add(e.id);
      since = Math.max(since, e.timestamp);
      output.print(e.process, e.timestamp, e.message);
    }
  };

  await fetchOnce();
  if (!options.follow) return 0;
  return new Promise<number>((resolve) => {
    const timer = setInterval(() => void fetchOnce().catch((error: Error) => output.note(`could not read logs: ${error.message}`)), 2000);
    process.once("SIGINT", () => {
      clearInterval(timer);
      resolve(0);
    });
  });
}

async function readGroup(clients: AwsClients, fn: { process: string; name: string }, since: number) {
  const group = `/aws/lambda/${fn.name}`;
  const found: { process: string; timestamp: number; message: string; id: string }[] = [];
  let token: string | undefined;
  do {
    const page = await clients.logs
      .send(new clients.sdk.logs.FilterLogEventsCommand({ logGroupName: group, startTime: since, nextToken: token }))
      .catch((error: Error) => {
        // A function that never ran has no log group yet.
        if (error.name === "ResourceNotFoundException") return { events: [], nextToken: undefined };
        throw error;
      });
    for (const e of page.events ?? []) found.push({ process: fn.process, timestamp: e.timestamp ?? 0, message: (e.message ?? "").trimEnd(), id: e.eventId ?? `${e.timestamp}${e.message}` });
    token = page.nextToken;
  } while (token);
  return found;
}
