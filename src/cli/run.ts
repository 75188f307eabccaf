import fs from "node:fs";
import path from "node:path";
import { findConfig } from "../config/find.ts";
import { serverInfoFile, type DevServerInfo } from "../dev/server.ts";
import { failure, usageError } from "../errors.ts";
import { globalFlags, parse, type GlobalFlags } from "./args.ts";
import { awsStage, cloudflareStage, stageFormation } from "./deployment.ts";
import { parseCrontab } from "../formation/crontab.ts";
import { queueName } from "../formation/names.ts";
import type { Formation, Process } from "../formation/types.ts";
import { nextRun } from "../dev/clock.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

export const run: Command = {
  async run(args) {
    const { values, positionals } = parse("run", args, { stage: { type: "string" }, target: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const [name, json, ...extra] = positionals;
    if (!name) throw usageError("twelve run needs a process: twelve run PROCESS [JSON]", "A clock fires now; a worker gets the JSON as one message.");
    if (extra.length) throw usageError(`twelve run takes one JSON message, got ${extra.length + 1} arguments`, "Quote the JSON: twelve run mailer '{\"to\":\"a@b.c\"}'");
    let body: unknown;
    if (json !== undefined) {
      try {
        body = JSON.parse(json);
      } catch (error) {
        throw usageError(`the message is not valid JSON: ${(error as Error).message}`, `Quote it for the shell: twelve run ${name} '{"key":"value"}'`);
      }
    }

    if (values.stage !== undefined) return runDeployed(flags, values, name, body, out);

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

/** twelve run --stage: the deployed clock's function is invoked, or one message goes to the worker's queue. */
async function runDeployed(flags: GlobalFlags, values: { stage?: string | undefined; target?: string | undefined }, name: string, body: unknown, out: Output): Promise<number> {
  const { formation, stage } = await stageFormation(flags, values);
  const process = formation.processes.find((p) => p.name === name);
  if (!process) throw usageError(`no process named "${name}"; processes: ${formation.processes.map((p) => p.name).join(", ")}`);
  if (process.type === "web") throw usageError(`"${name}" is a web process: send it HTTP at its ${formation.target === "aws" ? "Function URL" : "workers.dev URL"} (twelve ps --stage ${stage})`);
  if (process.type === "worker" && body === undefined) throw usageError(`"${name}" is a worker: give the message as JSON, e.g. twelve run ${name} '{"hello":"world"}' --stage ${stage}`);
  if (formation.target === "cloudflare") return runOnCloudflare(formation, stage, process, body, out);
  const { clients, functionName } = await awsStage(formation, stage);
  if (process.type === "worker") {
    const { sqs, sdk } = clients;
    const queue = await sqs.send(new sdk.sqs.GetQueueUrlCommand({ QueueName: functionName(name) })).catch(() => undefined);
    if (!queue?.QueueUrl) throw failure(`${name} is not deployed to stage ${stage}`, "Run twelve deploy first.");
    const sent = await sqs.send(new sdk.sqs.SendMessageCommand({
      QueueUrl: queue.QueueUrl,
      MessageBody: JSON.stringify(body),
      MessageAttributes: { "twelve-content-type": { DataType: "String", StringValue: "application/json" } },
    }));
    out.line(`sent one message to ${name} (${stage}, id ${sent.MessageId})`);
    out.result({ ok: true, sent: name, stage, id: sent.MessageId });
    return 0;
  }
  const { lambda, sdk } = clients;
  const result = await lambda
    .send(new sdk.lambda.InvokeCommand({ FunctionName: functionName(name), Payload: new TextEncoder().encode(JSON.stringify({ twelve: "scheduled" })) }))
    .catch((error: Error) => {
      throw failure(`could not invoke ${functionName(name)}: ${error.message}`, error.name === "ResourceNotFoundException" ? "Run twelve deploy first." : undefined);
    });
  if (result.FunctionError) throw failure(`${name} failed: ${new TextDecoder().decode(result.Payload)}`);
  out.line(`fired ${name} (${stage})`);
  out.result({ ok: true, fired: name, stage });
  return 0;
}

/**
 * On Cloudflare a message goes to the worker's queue through the Queues API. A Cron Trigger
 * cannot be fired from outside: Cloudflare has no API for it, so twelve says so and when the
 * clock runs next.
 */
async function runOnCloudflare(formation: Formation, stage: string, process: Process, body: unknown, out: Output): Promise<number> {
  if (process.type === "clock") {
    const next = nextRun(parseCrontab(process.schedule), process.timezone, Date.now());
    throw usageError(
      `"${process.name}" is a clock: Cloudflare has no API to fire a deployed Worker's Cron Trigger`,
      `It runs next at ${next ? new Date(next).toISOString() : "(no time found)"} (${process.schedule}, ${process.timezone}). To run it now, run it locally: twelve dev --target cloudflare, then twelve run ${process.name}.`,
    );
  }
  const { api } = await cloudflareStage(formation, stage);
  const { findQueue } = await import("../../adapters/cloudflare/state.ts");
  const queue = await findQueue(api, queueName(formation.app, stage, process.name));
  if (!queue) throw failure(`${process.name} is not deployed to stage ${stage}`, "Run twelve deploy first.");
  // content_type json: the consumer gets the parsed body, as from send().
  await api.send("POST", `/queues/${queue.queue_id}/messages`, { body, content_type: "json" });
  out.line(`sent one message to ${process.name} (${stage}, queue ${queue.queue_name})`);
  out.result({ ok: true, sent: process.name, stage, id: null });
  return 0;
}

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
