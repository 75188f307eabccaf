import { readDeployed } from "../../adapters/aws/state.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { awsStage } from "./deployment.ts";
import { Output, table } from "./output.ts";

/** The formation as deployed: each process, its resource, cap, state, last change, URL or queue depth. */
export const ps: Command = {
  async run(args) {
    const { values } = parse("ps", args, { stage: { type: "string" }, target: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const { formation, stage, clients, functionName } = await awsStage(flags, values);
    const { lambda, sdk } = clients;
    const deployed = await readDeployed(clients, formation.app, stage);
    const rows = await Promise.all(
      formation.processes.map(async (process) => {
        const name = functionName(process.name);
        const [config, url] = await Promise.all([
          lambda.send(new sdk.lambda.GetFunctionCommand({ FunctionName: name })).catch(() => undefined),
          process.type === "web" ? lambda.send(new sdk.lambda.GetFunctionUrlConfigCommand({ FunctionName: name })).then((u) => u.FunctionUrl, () => undefined) : undefined,
        ]);
        const mapping = deployed.resources.find((r) => r.kind === "mapping" && r.name === name);
        const cap = process.type === "worker" ? (mapping && "maximumConcurrency" in mapping ? mapping.maximumConcurrency : null) : config?.Concurrency?.ReservedConcurrentExecutions ?? null;
        return {
          process: process.name,
          type: process.type,
          resource: name,
          deployed: config !== undefined,
          cap,
          state: config?.Configuration?.State ?? "not deployed",
          lastChange: config?.Configuration?.LastModified ?? null,
          url: url ?? null,
          queueDepth: process.type === "worker" ? deployed.queueDepth[name] ?? null : null,
        };
      }),
    );
    out.line(`${out.bold(formation.app)} stage ${out.bold(stage)}`);
    const lines = table([
      ["PROCESS", "TYPE", "RESOURCE", "CAP", "STATE", "LAST CHANGE", "URL / QUEUE"],
      ...rows.map((r) => [r.process, r.type, r.resource, r.cap === null ? "-" : String(r.cap), r.state, r.lastChange ?? "-", r.url ?? (r.queueDepth === null ? "-" : `${r.queueDepth} waiting`)]),
    ]);
    for (const line of lines) out.line(line);
    out.result({ ok: true, app: formation.app, stage, processes: rows });
    return 0;
  },
};
