import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { awsStage, cloudflareStage, stageFormation } from "./deployment.ts";
import { queueName } from "../formation/names.ts";
import type { Formation } from "../formation/types.ts";
import { Output, table } from "./output.ts";

/** The formation as deployed: each process, its resource, cap, state, last change, URL or queue depth. */
export const ps: Command = {
  async run(args) {
    const { values } = parse("ps", args, { stage: { type: "string" }, target: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const { formation, stage } = await stageFormation(flags, values);
    const rows = formation.target === "aws" ? await awsRows(formation, stage) : await cloudflareRows(formation, stage);
    out.line(`${out.bold(formation.app)} stage ${out.bold(stage)}`);
    const lines = table([
      ["PROCESS", "TYPE", "RESOURCE", "CAP", "STATE", "LAST CHANGE", "URL / QUEUE"],
      ...rows.map((r) => [r.process, r.type, r.resource, r.cap === null ? "-" : String(r.cap), r.state, r.lastChange ?? "-", r.url ?? (r.queueDepth === null ? "-" : `${r.queueDepth} waiting`)]),
    ]);
    for (const line of lines) out.line(line);
    if (formation.target === "cloudflare" && rows.some((r) => r.type === "web")) out.note("Cloudflare has no cap on a web Worker's concurrent requests: CAP shows none");
    out.result({ ok: true, app: formation.app, stage, processes: rows });
    return 0;
  },
};

/** One process as deployed; --json gives these fields (documented in the README). */
interface Row {
  process: string;
  type: string;
  resource: string;
  deployed: boolean;
  cap: number | null;
  state: string;
  lastChange: string | null;
  url: string | null;
  queueDepth: number | null;
}

async function awsRows(formation: Formation, stage: string): Promise<Row[]> {
  const { clients, functionName } = await awsStage(formation, stage);
  const { readDeployed } = await import("../../adapters/aws/state.ts");
  const { lambda, sdk } = clients;
  const deployed = await readDeployed(clients, formation.app, stage);
  return Promise.all(
    formation.processes.map(async (process): Promise<Row> => {
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
}

/** Workers, their consumers' caps, workers.dev URLs and queue backlogs, read in parallel. */
async function cloudflareRows(formation: Formation, stage: string): Promise<Row[]> {
  const { api, workerName } = await cloudflareStage(formation, stage);
  const { accountSubdomain, readDeployed, queueBacklog } = await import("../../adapters/cloudflare/state.ts");
  const { workersDevUrl } = await import("../../adapters/cloudflare/deploy.ts");
  const names = formation.processes.map((p) => workerName(p.name));
  const [deployed, subdomain] = await Promise.all([
    readDeployed(api, formation.app, stage, names),
    accountSubdomain(api),
  ]);
  return Promise.all(
    formation.processes.map(async (process): Promise<Row> => {
      const name = workerName(process.name);
      const worker = deployed.resources.find((r) => r.kind === "worker" && r.name === name);
      const consumer = deployed.resources.find((r) => r.kind === "consumer" && r.name === queueName(formation.app, stage, process.name));
      const queueId = deployed.queueIds[queueName(formation.app, stage, process.name)];
      return {
        process: process.name,
        type: process.type,
        resource: name,
        deployed: worker !== undefined,
        cap: consumer?.kind === "consumer" ? consumer.maxConcurrency : null,
        state: worker ? "deployed" : "not deployed",
        lastChange: deployed.modifiedOn[name] || null,
        url: worker?.kind === "worker" && worker.workersDev && subdomain ? workersDevUrl(name, subdomain) : null,
        queueDepth: process.type === "worker" && queueId ? await queueBacklog(api, queueId) : null,
      };
    }),
  );
}
