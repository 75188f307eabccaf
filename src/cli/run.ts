import path from "node:path";
import type { AdapterRegistry, Limits } from "../adapter.ts";
import { findConfig } from "../config/find.ts";
import { connectStage, stageFormation } from "../deploy/stage.ts";
import { callDevServer, readServerInfo } from "../dev/server.ts";
import { usageError } from "../errors.ts";
import { globalFlags, parse, stageOptions, type GlobalFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

export const run: Command = {
  async run(args, { adapters }) {
    const { values, positionals } = parse("run", args, { stage: { type: "string" }, target: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const [name, given, ...extra] = positionals;
    if (!name) throw usageError("twelve run needs a process: twelve run PROCESS [JSON | -]", "A clock fires now; a worker gets the JSON as one message (- reads it from stdin).");
    if (extra.length) throw usageError(`twelve run takes one JSON message, got ${extra.length + 1} arguments`, "Quote the JSON: twelve run mailer '{\"to\":\"a@b.c\"}', or give - and pipe it in.");
    // "-": the message comes from stdin, for one too large for a command line or from a file.
    const json = given === "-" ? await readStdin() : given;
    let body: unknown;
    if (json !== undefined) {
      try {
        body = JSON.parse(json);
      } catch (error) {
        const from = given === "-" ? "from stdin " : "";
        throw usageError(`the message ${from}is not valid JSON: ${(error as Error).message}`, given === "-" ? `Pipe in one JSON value: twelve run ${name} - < message.json` : `Quote it for the shell: twelve run ${name} '{"key":"value"}'`);
      }
    }

    if (values.stage !== undefined) return runDeployed(flags, values, adapters, name, body, out);

    const root = path.dirname(findConfig(path.resolve(flags.cwd), flags.config));
    const result = await callDevServer<Record<string, unknown>>(readServerInfo(root), "POST", `/_twelve/run/${encodeURIComponent(name)}`, body, `twelve run ${name}: `);
    if (result.fired) out.line(`fired ${name} for ${String(result.scheduledTime)}: ok in ${String(result.durationMs)} ms`);
    else out.line(`sent one message to ${name} (id ${String(result.id)})`);
    out.result({ ok: true, ...result });
    return 0;
  },
};

/** twelve run --stage: the deployed clock fires, or one message goes to the worker's queue. */
async function runDeployed(flags: GlobalFlags, values: { stage?: string | undefined; target?: string | undefined }, adapters: AdapterRegistry, name: string, body: unknown, out: Output): Promise<number> {
  const options = stageOptions(flags, values, adapters, out);
  const loaded = await stageFormation(options);
  const { formation, stage, adapter } = loaded;
  const process = formation.processes.find((p) => p.name === name);
  if (!process) throw usageError(`no process named "${name}"; processes: ${formation.processes.map((p) => p.name).join(", ")}`);
  if (process.type === "web") throw usageError(`"${name}" is a web process: send it HTTP at its ${adapter.webUrlName} (twelve ps --stage ${stage})`);
  if (process.type === "worker" && body === undefined) throw usageError(`"${name}" is a worker: give the message as JSON, e.g. twelve run ${name} '{"hello":"world"}' --stage ${stage}`);
  if (process.type === "worker") checkMessageSize(name, body, adapter.limits.message);
  const { deployed } = await connectStage(loaded, options);
  const result = await deployed.run(process, body);
  if ("fired" in result) {
    out.line(`fired ${name} (${stage})`);
    out.result({ ok: true, fired: name, stage });
  } else {
    out.line(`sent one message to ${name} (${stage}, ${result.detail})`);
    out.result({ ok: true, sent: name, stage, id: result.id });
  }
  return 0;
}

/** The message as its queue would take it: a body over the platform's size is refused here, with the limit. */
function checkMessageSize(name: string, body: unknown, limit: Limits["message"]): void {
  const bytes = Buffer.byteLength(JSON.stringify(body));
  if (bytes > limit.bytes) throw usageError(`the message for ${name} is ${bytes} bytes as JSON; ${limit.setting} holds at most ${limit.bytes}`, "Send a smaller message: put the data somewhere the worker can fetch it, and send its key.");
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
