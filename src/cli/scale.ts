import { LIMITS } from "../formation/limits.ts";
import { failure, usageError } from "../errors.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { awsStage, cloudflareStage, stageFormation } from "./deployment.ts";
import { queueName } from "../formation/names.ts";
import type { Formation, Process } from "../formation/types.ts";
import { Output } from "./output.ts";

/** twelve scale web=100 mailer=20: caps changed in place, no code deployed. */
export const scale: Command = {
  async run(args) {
    const { values, positionals } = parse("scale", args, { stage: { type: "string" }, target: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    if (!positionals.length) throw usageError("twelve scale needs at least one PROCESS=N", "For example: twelve scale web=100 mailer=20 --stage prod");
    const requests = positionals.map((arg) => {
      const match = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(arg);
      if (!match) throw usageError(`"${arg}" is not PROCESS=N`, "For example: twelve scale web=100 mailer=20");
      return { name: match[1] as string, cap: Number(match[2]) };
    });
    const { formation, stage } = await stageFormation(flags, values);

    // Every request is checked before the first call: a bad one changes nothing.
    const limits = LIMITS[formation.target];
    const checked = requests.map(({ name, cap }) => {
      const process = formation.processes.find((p) => p.name === name);
      if (!process) throw usageError(`no process named "${name}"; processes: ${formation.processes.map((p) => p.name).join(", ")}`);
      if (process.type === "clock") throw usageError(`"${name}" is a clock: clocks run one at a time, so their cap is always 1`);
      if (process.type === "web" && formation.target === "cloudflare") {
        throw usageError(`"${name}" is a web process: Cloudflare Workers have no cap on concurrent requests to set`, "Cloudflare scales web Workers by itself; only worker caps (queue consumers' max_concurrency) can be scaled there.");
      }
      const range = process.type === "web" ? limits.webConcurrency : limits.workerConcurrency;
      if (range && (cap < range.min || cap > range.max)) throw usageError(`${name}=${cap}: expected ${range.min}..${range.max} on ${formation.target} (${range.setting})`);
      return { process, cap };
    });

    // Each change is reported as it is made: a later failure loses none of them.
    const report = (change: Change) => out.line(`${change.process}: ${change.from ?? "(none)"} → ${change.to}`);
    const changed = formation.target === "aws" ? await scaleAws(formation, stage, checked, report) : await scaleCloudflare(formation, stage, checked, report);
    for (const { process, cap } of checked) {
      if (process.concurrency !== cap) out.note(`twelve.config.ts still says ${process.name} concurrency ${process.concurrency}: the next deploy sets it back unless you change it there`);
    }
    out.result({ ok: true, app: formation.app, stage, changed });
    return 0;
  },
};

interface Change {
  process: string;
  from: number | null;
  to: number;
}

/** Web: reserved concurrency; worker: the event source mapping's MaximumConcurrency. */
async function scaleAws(formation: Formation, stage: string, checked: { process: Process; cap: number }[], report: (change: Change) => void): Promise<Change[]> {
  const { clients, functionName } = await awsStage(formation, stage);
  const { lambda, sdk } = clients;
  const changed: Change[] = [];
  for (const { process, cap } of checked) {
    const name = functionName(process.name);
    if (process.type === "web") {
      const fn = await lambda.send(new sdk.lambda.GetFunctionCommand({ FunctionName: name })).catch(() => undefined);
      if (!fn) throw failure(`${process.name} is not deployed to stage ${stage}`, "Run twelve deploy first.");
      await lambda.send(new sdk.lambda.PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: cap }));
      changed.push({ process: process.name, from: fn.Concurrency?.ReservedConcurrentExecutions ?? null, to: cap });
    } else {
      const [mapping] = (await lambda.send(new sdk.lambda.ListEventSourceMappingsCommand({ FunctionName: name }))).EventSourceMappings ?? [];
      if (!mapping?.UUID) throw failure(`${process.name} is not deployed to stage ${stage}`, "Run twelve deploy first.");
      await lambda.send(new sdk.lambda.UpdateEventSourceMappingCommand({ UUID: mapping.UUID, ScalingConfig: { MaximumConcurrency: cap } }));
      changed.push({ process: process.name, from: mapping.ScalingConfig?.MaximumConcurrency ?? null, to: cap });
    }
    report(changed.at(-1) as Change);
  }
  return changed;
}

/** A worker's queue consumer gets the new max_concurrency, its other settings as they are. */
async function scaleCloudflare(formation: Formation, stage: string, checked: { process: Process; cap: number }[], report: (change: Change) => void): Promise<Change[]> {
  const { api, workerName } = await cloudflareStage(formation, stage);
  const { consumerScript, listQueues } = await import("../../adapters/cloudflare/state.ts");
  const queues = await listQueues(api);
  const changed: Change[] = [];
  for (const { process, cap } of checked) {
    const queue = queues.find((q) => q.queue_name === queueName(formation.app, stage, process.name));
    const consumer = queue?.consumers?.find((c) => consumerScript(c) === workerName(process.name));
    if (!queue || !consumer) throw failure(`${process.name} is not deployed to stage ${stage}`, "Run twelve deploy first.");
    await api.send("PUT", `/queues/${queue.queue_id}/consumers/${consumer.consumer_id}`, {
      type: "worker",
      script_name: workerName(process.name),
      dead_letter_queue: consumer.dead_letter_queue ?? "",
      settings: { ...consumer.settings, max_concurrency: cap },
    });
    changed.push({ process: process.name, from: consumer.settings?.max_concurrency ?? null, to: cap });
    report(changed.at(-1) as Change);
  }
  return changed;
}
