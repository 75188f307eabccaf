import { spawn, type ChildProcess } from "node:child_process";
import type { LogOutput } from "../../src/adapter.ts";
import { withCompileCache } from "../../src/compile-cache.ts";
import { wranglerBin, wranglerError } from "./wrangler-cli.ts";

/** One event of a Worker's tail, as `wrangler tail --format json` prints it (Cloudflare's trace format). */
interface TailEvent {
  outcome?: string;
  eventTimestamp?: number;
  event?: {
    request?: { method?: string; url?: string };
    response?: { status?: number };
    cron?: string;
    queue?: string;
    batchSize?: number;
  } | null;
  logs?: { message?: unknown[]; level?: string; timestamp?: number }[];
  exceptions?: { name?: string; message?: string; timestamp?: number }[];
}


/**
 * `twelve logs --follow` on Cloudflare: one `wrangler tail --format json` per process, each
 * event printed as a line for what ran (request, batch, cron) and a line per console message
 * or exception, prefixed by the process. Ctrl-C ends every tail (wrangler deletes its session).
 */
export function tailLogs(targets: { process: string; worker: string }[], env: NodeJS.ProcessEnv, output: LogOutput): Promise<number> {
  return new Promise((resolve) => {
    const children: ChildProcess[] = [];
    let stopping = false;
    let open = targets.length;
    let failed = false;
    for (const { process: name, worker } of targets) {
      const child = spawn(process.execPath, [wranglerBin("twelve logs on Cloudflare"), "tail", worker, "--format", "json"], { env: withCompileCache(env), stdio: ["ignore", "pipe", "pipe"] });
      children.push(child);
      const objects = jsonObjects((text) => {
        let event: TailEvent;
        try {
          event = JSON.parse(text) as TailEvent;
        } catch {
          return;
        }
        for (const [time, line] of describe(event)) output.print(name, time, line);
      });
      child.stdout?.on("data", (chunk: Buffer) => objects(chunk.toString("utf8")));
      let errors = "";
      child.stderr?.on("data", (chunk: Buffer) => {
        errors += chunk.toString("utf8");
      });
      child.on("close", (code) => {
        if (!stopping && code !== 0) {
          failed = true;
          const why = wranglerError(errors).split("\n").map((l) => l.trim()).slice(0, 4).join(" ");
          output.note(`the tail of ${name} (${worker}) ended: ${why || `wrangler exited with status ${code}`}`);
        }
        if (--open === 0) {
          process.off("SIGINT", stop);
          resolve(failed && !stopping ? 1 : 0);
        }
      });
    }
    function stop() {
      stopping = true;
      for (const child of children) child.kill("SIGINT");
    }
    process.once("SIGINT", stop);
  });
}

/** The lines one tail event prints: what ran and how it ended, then its logs and exceptions. */
export function describe(event: TailEvent): [number, string][] {
  const at = event.eventTimestamp ?? Date.now();
  const e = event.event ?? {};
  const outcome = event.outcome ?? "unknown";
  let what = "event";
  if (e.request) what = `${e.request.method ?? "GET"} ${e.request.url ?? ""}${e.response?.status ? ` ${e.response.status}` : ""}`;
  else if (e.queue) what = `queue ${e.queue} (${e.batchSize ?? "?"} message${e.batchSize === 1 ? "" : "s"})`;
  else if (e.cron !== undefined) what = `cron ${e.cron}`;
  const lines: [number, string][] = [[at, `${what} ${outcome}`]];
  for (const log of event.logs ?? []) {
    const text = (log.message ?? []).map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ");
    lines.push([log.timestamp ?? at, log.level && log.level !== "log" && log.level !== "info" ? `${log.level}: ${text}` : text]);
  }
  for (const ex of event.exceptions ?? []) lines.push([ex.timestamp ?? at, `${ex.name ?? "Error"}: ${ex.message ?? ""}`]);
  return lines;
}

/**
 * Splits a stream of JSON objects (compact or pretty-printed, any other text between them
 * ignored) into each object's text.
 */
export function jsonObjects(onObject: (text: string) => void): (chunk: string) => void {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let current = "";
  return (chunk) => {
    for (const ch of chunk) {
      if (depth === 0) {
        if (ch !== "{") continue;
        depth = 1;
        current = "{";
        continue;
      }
      current += ch;
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === "\\") escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') inString = true;
      else if (ch === "{" || ch === "[") depth++;
      else if (ch === "}" || ch === "]") {
        depth--;
        if (depth === 0) onObject(current);
      }
    }
  };
}
