import type { CapChange, ConnectOptions, DeployedStage, ProcessStatus } from "../../src/adapter.ts";
import { failure } from "../../src/errors.ts";
import { resourceName } from "../../src/formation/names.ts";
import type { Formation } from "../../src/formation/types.ts";
import { readAccountConcurrency, reservationProblem } from "./account-limits.ts";
import { accountOf, awsClients, deployRegion } from "./client.ts";
import { invokeRefusal, lastClockRun } from "./clock-runs.ts";
import { awsDeployment } from "./deploy.ts";
import { awsDeadLetters } from "./dlq.ts";
import { cloudWatchLogs } from "./logs.ts";
import { readDeployed } from "./resources.ts";
import { functionUrl } from "./resources/function.ts";

/** One app's stage on AWS: the region and account of the credentials in use, checked first. */
export async function awsStage(formation: Formation, stage: string, options: ConnectOptions): Promise<DeployedStage> {
  const region = deployRegion(formation.aws.region, options.env);
  const clients = await awsClients(region, options.env, options.note);
  const account = await accountOf(clients);
  const { lambda, sqs, sdk } = clients;
  const functionName = (process: string) => resourceName(formation.app, stage, process);
  const notDeployed = (process: string) => failure(`${process} is not deployed to stage ${stage}`, "Run twelve deploy first.");

  return {
    where: `AWS ${region} (account ${account})`,
    place: { region, account },
    deployment: (build, secrets) => awsDeployment(formation, stage, build, secrets, { clients, account, region }),

    async ps() {
      const deployed = await readDeployed(clients, formation.app, stage);
      const processes = await Promise.all(
        formation.processes.map(async (process): Promise<ProcessStatus> => {
          const name = functionName(process.name);
          const [config, url, lastRun] = await Promise.all([
            lambda.send(new sdk.lambda.GetFunctionCommand({ FunctionName: name })).catch(() => undefined),
            process.type === "web" ? functionUrl(clients, name) : undefined,
            process.type === "clock" ? lastClockRun(clients, name) : null,
          ]);
          const mapping = deployed.find((r) => r.kind === "mapping" && r.name === name);
          const queue = deployed.find((r) => r.kind === "queue" && r.name === name);
          return {
            process: process.name,
            type: process.type,
            resource: name,
            deployed: config !== undefined,
            cap: process.type === "worker" ? (mapping?.kind === "mapping" ? mapping.maximumConcurrency : null) : config?.Concurrency?.ReservedConcurrentExecutions ?? null,
            state: config?.Configuration?.State ?? "not deployed",
            lastChange: config?.Configuration?.LastModified ?? null,
            url: url ?? null,
            lastRun,
            queueDepth: process.type === "worker" && queue?.kind === "queue" ? queue.messages ?? null : null,
          };
        }),
      );
      // The wrapper logs each run it makes; a run Lambda dropped, due while the previous one
      // still went, never reached it and is a dead letter of the clock instead.
      const notes = processes
        .filter((p) => p.type === "clock" && p.deployed && !p.lastRun)
        .map((p) => `${p.process}: no run in its log for 31 days (a run skipped while the previous one still went is not logged, but kept as a dead letter: twelve dlq ${p.process} --stage ${stage})`);
      return { processes, notes };
    },

    /** Web: reserved concurrency; worker: the event source mapping's MaximumConcurrency. */
    async scale(requests, report) {
      // Every web function is read, and the account's room to reserve checked, before the first change.
      const web = requests.filter((r) => r.process.type === "web");
      const [functions, concurrency] = await Promise.all([
        Promise.all(web.map((r) => lambda.send(new sdk.lambda.GetFunctionCommand({ FunctionName: functionName(r.process.name) })).catch(() => undefined))),
        web.length ? readAccountConcurrency(clients) : undefined,
      ]);
      const current = new Map(web.map((r, i) => [r.process.name, functions[i]]));
      for (const r of web) if (!current.get(r.process.name)) throw notDeployed(r.process.name);
      const held = functions.reduce((sum, fn) => sum + (fn?.Concurrency?.ReservedConcurrentExecutions ?? 0), 0);
      const refused = concurrency && reservationProblem(web.map((r) => ({ process: r.process.name, reserved: r.cap })), held, concurrency, `account ${account} in ${region}`);
      if (refused) throw refused;

      const changed: CapChange[] = [];
      for (const { process, cap } of requests) {
        const name = functionName(process.name);
        let change: CapChange;
        if (process.type === "web") {
          const fn = current.get(process.name);
          await lambda.send(new sdk.lambda.PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: cap }));
          change = { process: process.name, from: fn?.Concurrency?.ReservedConcurrentExecutions ?? null, to: cap };
        } else {
          const [mapping] = (await lambda.send(new sdk.lambda.ListEventSourceMappingsCommand({ FunctionName: name }))).EventSourceMappings ?? [];
          if (!mapping?.UUID) throw notDeployed(process.name);
          await lambda.send(new sdk.lambda.UpdateEventSourceMappingCommand({ UUID: mapping.UUID, ScalingConfig: { MaximumConcurrency: cap } }));
          change = { process: process.name, from: mapping.ScalingConfig?.MaximumConcurrency ?? null, to: cap };
        }
        changed.push(change);
        report(change);
      }
      return changed;
    },

    logs: (processes, options, output) => cloudWatchLogs(clients, processes.map((process) => ({ process, name: functionName(process) })), options, output),

    /** A worker: one message to its queue, as send() writes it; a clock: its function, invoked now. */
    deadLetters: awsDeadLetters(clients, formation, stage),

    async run(process, body) {
      const name = functionName(process.name);
      if (process.type === "worker") {
        const queue = await sqs.send(new sdk.sqs.GetQueueUrlCommand({ QueueName: name })).catch(() => undefined);
        if (!queue?.QueueUrl) throw notDeployed(process.name);
        const sent = await sqs.send(new sdk.sqs.SendMessageCommand({
          QueueUrl: queue.QueueUrl,
          MessageBody: JSON.stringify(body),
          MessageAttributes: { "twelve-content-type": { DataType: "String", StringValue: "application/json" } },
        }));
        return { sent: process.name, id: sent.MessageId ?? null, detail: `id ${sent.MessageId}` };
      }
      const result = await clients.lambdaOnce
        .send(new sdk.lambda.InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode(JSON.stringify({ twelve: "scheduled" })) }))
        .catch((error: Error) => {
          throw invokeRefusal(process.name, name, error);
        });
      if (result.FunctionError) throw failure(`${process.name} failed: ${new TextDecoder().decode(result.Payload)}`);
      return { fired: process.name };
    },
  };
}
