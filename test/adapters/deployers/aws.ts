import { SQSClient, ListQueuesCommand } from "@aws-sdk/client-sqs";
import { LambdaClient, GetPolicyCommand, ListEventSourceMappingsCommand, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { IAMClient, ListRolesCommand } from "@aws-sdk/client-iam";
import { ListScheduleGroupsCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
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
    const [functions, queues, roles, groups, logGroups] = await Promise.all([
      lambda.send(new ListFunctionsCommand({})),
      new SQSClient(direct).send(new ListQueuesCommand({ QueueNamePrefix: prefix })),
      new IAMClient(direct).send(new ListRolesCommand({})),
      new SchedulerClient(direct).send(new ListScheduleGroupsCommand({ NamePrefix: `shop-${stage}` })),
      new CloudWatchLogsClient(direct).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: `/aws/lambda/${prefix}` })),
    ]);
    return [
      ...(groups.ScheduleGroups ?? []).map((g) => g.Name ?? "").filter((n) => n === `shop-${stage}`),
      ...(functions.Functions ?? []).map((f) => f.FunctionName ?? "").filter((n) => n.startsWith(prefix)),
      ...(queues.QueueUrls ?? []).map((u) => u.split("/").at(-1) ?? ""),
      ...(roles.Roles ?? []).map((r) => r.RoleName ?? "").filter((n) => n.startsWith(prefix)),
      ...(logGroups.logGroups ?? []).map((g) => g.logGroupName ?? ""),
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
    resources: 16,
    async lane(): Promise<DeployLane> {
      const proxy = await startAwsProxy(moto.endpoint);
      return {
        env: { ...awsTestEnv(proxy.endpoint) },
        writes: () => proxy.writes,
        // The lock's own calls (an IAM role) are not steps of the deploy.
        cutWrites: (n) => proxy.cutWrites(n, /twelve-lock/),
        converged,
        leftovers: names,
        close: async () => {
          await proxy.stop();
          // Every request AWS would have refused, though moto took it (or the proxy refused it, and a read swallowed that).
          expect(proxy.violations, "requests AWS would refuse").toEqual([]);
        },
      };
    },
    stop: () => moto.stop(),
  };
}
