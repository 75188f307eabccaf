import { SQSClient, ListQueuesCommand } from "@aws-sdk/client-sqs";
import { LambdaClient, GetPolicyCommand, ListEventSourceMappingsCommand, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { IAMClient, ListRolesCommand } from "@aws-sdk/client-iam";
import { ListScheduleGroupsCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { expect } from "vitest";
import { startAwsProxy } from "../../support/aws-proxy.ts";
import { awsTestEnv, motoClientConfig, startMoto } from "../../support/moto.ts";
import type { DeployLane, DeployTarget } from "./target.ts";

/** AWS for the deploy conformance suite: moto_server, behind proxies (lanes) that count and cut writes. */
export async function awsTarget(): Promise<DeployTarget> {
  const moto = await startMoto();
  const direct = motoClientConfig(moto.endpoint);
  const lambda = new LambdaClient(direct);
  const names = async (stage: string) => {
    const prefix = `shop-${stage}-`;
    const [functions, queues, roles, groups] = await Promise.all([
      lambda.send(new ListFunctionsCommand({})),
      new SQSClient(direct).send(new ListQueuesCommand({ QueueNamePrefix: prefix })),
      new IAMClient(direct).send(new ListRolesCommand({})),
      new SchedulerClient(direct).send(new ListScheduleGroupsCommand({ NamePrefix: `shop-${stage}` })),
    ]);
    return [
      ...(groups.ScheduleGroups ?? []).map((g) => g.Name ?? "").filter((n) => n === `shop-${stage}`),
      ...(functions.Functions ?? []).map((f) => f.FunctionName ?? "").filter((n) => n.startsWith(prefix)),
      ...(queues.QueueUrls ?? []).map((u) => u.split("/").at(-1) ?? ""),
      ...(roles.Roles ?? []).map((r) => r.RoleName ?? "").filter((n) => n.startsWith(prefix)),
    ];
  };
  const converged = async (stage: string) => {
      const mappings = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: `shop-${stage}-mailer` }));
      expect(mappings.EventSourceMappings, "one event source mapping").toHaveLength(1);
      const policy = JSON.parse((await lambda.send(new GetPolicyCommand({ FunctionName: `shop-${stage}-web` }))).Policy ?? "{}") as { Statement: unknown[] };
      expect(policy.Statement, "the Function URL's two permissions").toHaveLength(2);
  };
  return {
    target: "aws",
    resources: 13,
    async lane(): Promise<DeployLane> {
      const proxy = await startAwsProxy(moto.endpoint);
      return {
        env: { ...awsTestEnv(proxy.endpoint) },
        writes: () => proxy.writes,
        // The lock's own calls (an IAM role) are not steps of the deploy.
        cutWrites: (n) => proxy.cutWrites(n, /twelve-lock/),
        converged,
        leftovers: names,
        close: () => proxy.stop(),
      };
    },
    stop: () => moto.stop(),
  };
}
