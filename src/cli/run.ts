import fs from "node:fs";
import path from "node:path";
import { findConfig } from "../config/find.ts";
import { serverInfoFile, type DevServerInfo } from "../dev/server.ts";
import { failure, usageError } from "../errors.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

export const run: Command = {
  async run(args) {
    const { values, positionals } = parse("run", args, { stage: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const [name, json, ...extra] = positionals;
    if (!name) throw usageError("twelve run needs a process: twelve run PROCESS [JSON]", "A clock fires now; a worker gets the JSON as one message.");
    if (extra.length) throw usageError(`twelve run takes one JSON message, got ${extra.length + 1} arguments`, "Quote the JSON: twelve run mailer '{\"to\":\"a@b.c\"}'");
    if (values.stage !== undefined) {
      throw usageError(`twelve run --stage ${values.stage}: running against a deployed stage is not available in this version`, "Without --stage, twelve run reaches the twelve dev running for this app.");
    }
    let body: unknown;
    if (json !== undefined) {
      try {
        body = JSON.parse(json);
      } catch (error) {
        throw usageError(`the message is not valid JSON: ${(error as Error).message}`, `Quote it for the shell: twelve run ${name} '{"key":"value"}'`);
      }
    }

    const root = path.dirname(findConfig(path.resolve(flags.cwd), flags.config));
    const info = readServerInfo(root);
    let response: Response;
    try {
      response = await fetch(`${info.url}/_twelve/run/${encodeURIComponent(name)}`, { method: "POST", body: body === undefined ? "" : JSON.stringify(body) });
    } catch {
      throw failure(`twelve dev for ${info.app} is not answering at ${info.url} (pid ${info.pid})`, "Start it again with npx twelve dev.");
    }
    const result = (await response.json()) as Record<string, unknown>;
    if (!response.ok) {
      throw (response.status === 400 || response.status === 404 ? usageError : failure)(`twelve run ${name}: ${String(result.error)}`);
    }
    if (result.fired) out.line(`fired ${name} (scheduled time ${String(result.scheduledTime)})`);
    else out.line(`sent one message to ${name} (id ${String(result.id)})`);
    out.result({ ok: true, ...result });
    return 0;
  },
};

function readServerInfo(root: string): DevServerInfo {
  const file = serverInfoFile(root);
  try {
    const info = JSON.parse(fs.readFileSync(file, "utf8")) as DevServerInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    throw failure(`no twelve dev is running for the app in ${root}`, "Start it with npx twelve dev (in another terminal), then run this again.");
  }
}
