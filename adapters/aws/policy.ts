import type { DeployPolicy, PolicyOptions } from "../../src/adapter.ts";
import { usageError } from "../../src/errors.ts";
import type { Formation } from "../../src/formation/types.ts";
import { scheduleGroupName } from "./resources/schedule.ts";
import { SCHEDULER_ROLE_SUFFIX } from "./names.ts";
import { partitionOf } from "./partition.ts";

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow";
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string>>;
}

export interface IamPolicy {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/**
 * The least-privilege IAM policy for deploying one stage of a formation, and for every other
 * command on it (plan, ps, scale, logs, run, destroy): each action twelve calls, scoped to the
 * stage's own resources (`<app>-<stage>-*`) wherever the action has resource-level permissions,
 * and `*` only for the actions AWS authorizes on `*` alone (the List and Describe calls,
 * GetCallerIdentity, GetAccountSettings, CreateEventSourceMapping, which a condition on the
 * function then narrows). iam:PassRole goes only to the stage's roles, and only to the service
 * each is for.
 *
 * It needs no credentials: without --account, ARNs say `*` for the account (a policy acts in
 * its own account anyway: the other accounts' resources would have to grant it access
 * themselves); the region is the config's or AWS_REGION, else `*`.
 */
export function deployPolicy(formation: Formation, stage: string, options: { account?: string | undefined; region?: string | undefined }): IamPolicy {
  const account = options.account ?? "*";
  const region = options.region ?? "*";
  // China and GovCloud are partitions of their own; an unknown region is most likely aws's.
  const partition = region === "*" ? "aws" : partitionOf(region).name;
  const prefix = `${formation.app}-${stage}-`;
  const arn = (service: string, resource: string, inRegion = true) => `arn:${partition}:${service}:${inRegion ? region : ""}:${account}:${resource}`;
  const functions = arn("lambda", `function:${prefix}*`);
  const ofStageFunctions = { ArnLike: { "lambda:FunctionArn": functions } };
  const roles = arn("iam", `role/${prefix}*`, false);
  const group = scheduleGroupName(formation.app, stage);

  const statements: PolicyStatement[] = [
    {
      Sid: "ReadTheAccount",
      Effect: "Allow",
      // AWS authorizes these on "*" only: they list or describe the whole account.
      Action: [
        "sts:GetCallerIdentity",
        "iam:ListRoles",
        "lambda:GetAccountSettings",
        "lambda:ListEventSourceMappings",
        "lambda:ListFunctions",
        "logs:DescribeLogGroups",
        "scheduler:ListSchedules",
        "sqs:ListQueues",
      ],
      Resource: "*",
    },
    {
      Sid: "StageRoles",
      Effect: "Allow",
      // The processes' roles, the clocks' Scheduler roles and the deploy lock (a role too).
      Action: ["iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:GetRole", "iam:GetRolePolicy", "iam:PutRolePolicy", "iam:TagRole", "iam:UpdateAssumeRolePolicy"],
      Resource: roles,
    },
    {
      Sid: "PassStageRolesToLambda",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: roles,
      Condition: { StringEquals: { "iam:PassedToService": "lambda.amazonaws.com" } },
    },
    {
      Sid: "PassClockRolesToScheduler",
      Effect: "Allow",
      Action: ["iam:PassRole"],
      Resource: arn("iam", `role/${prefix}*${SCHEDULER_ROLE_SUFFIX}`, false),
      Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
    },
    {
      Sid: "StageFunctions",
      Effect: "Allow",
      Action: [
        "lambda:AddPermission",
        "lambda:CreateFunction",
        "lambda:CreateFunctionUrlConfig",
        "lambda:DeleteFunction",
        "lambda:DeleteFunctionConcurrency",
        "lambda:DeleteFunctionEventInvokeConfig",
        "lambda:DeleteFunctionUrlConfig",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:GetFunctionRecursionConfig",
        "lambda:GetFunctionUrlConfig",
        "lambda:GetPolicy",
        "lambda:InvokeFunction",
        "lambda:PutFunctionConcurrency",
        "lambda:PutFunctionEventInvokeConfig",
        "lambda:PutFunctionRecursionConfig",
        "lambda:RemovePermission",
        "lambda:TagResource",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:UpdateFunctionUrlConfig",
      ],
      Resource: functions,
    },
    {
      Sid: "CreateStageMappings",
      Effect: "Allow",
      // No resource-level permission: the function it feeds is what can be held to the stage.
      Action: ["lambda:CreateEventSourceMapping"],
      Resource: "*",
      Condition: ofStageFunctions,
    },
    {
      Sid: "ChangeStageMappings",
      Effect: "Allow",
      Action: ["lambda:DeleteEventSourceMapping", "lambda:UpdateEventSourceMapping"],
      Resource: arn("lambda", "event-source-mapping:*"),
      Condition: ofStageFunctions,
    },
    {
      Sid: "StageQueues",
      Effect: "Allow",
      // The last five: twelve dlq (read without consuming, redrive, purge).
      Action: ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags", "sqs:SendMessage", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"],
      Resource: arn("sqs", `${prefix}*`),
    },
    {
      Sid: "StageScheduleGroup",
      Effect: "Allow",
      Action: ["scheduler:CreateScheduleGroup", "scheduler:DeleteScheduleGroup", "scheduler:GetScheduleGroup", "scheduler:ListTagsForResource", "scheduler:TagResource"],
      Resource: arn("scheduler", `schedule-group/${group}`),
    },
    {
      Sid: "StageSchedules",
      Effect: "Allow",
      Action: ["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"],
      Resource: arn("scheduler", `schedule/${group}/*`),
    },
    {
      Sid: "StageLogGroups",
      Effect: "Allow",
      // The trailing * also covers the `:*` form of a log group's ARN that some calls are checked against.
      Action: ["logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:FilterLogEvents", "logs:ListTagsForResource", "logs:PutRetentionPolicy", "logs:TagResource"],
      Resource: arn("logs", `log-group:/aws/lambda/${prefix}*`),
    },
  ];
  return { Version: "2012-10-17", Statement: statements };
}

/** `twelve policy` on AWS. */
export function awsPolicy(formation: Formation, stage: string, options: PolicyOptions): DeployPolicy {
  if (options.account !== undefined && !/^\d{12}$/.test(options.account)) {
    throw usageError(`--account "${options.account}" is not an AWS account id`, "An account id is 12 digits, as `aws sts get-caller-identity` shows it.");
  }
  const region = formation.aws.region ?? options.env.AWS_REGION ?? options.env.AWS_DEFAULT_REGION;
  const document = deployPolicy(formation, stage, { account: options.account, region });
  const notes = [
    `for deploying ${formation.app} (${stage}), and plan, ps, scale, logs, run and destroy on it: save this IAM policy and attach it to the deploying role or user, e.g. aws iam put-role-policy --role-name ROLE --policy-name twelve-${formation.app}-${stage} --policy-document file://policy.json`,
    ...(options.account ? [] : ["ARNs say * for the account: pass --account ID to name yours"]),
    ...(region ? [] : ["ARNs say * for the region: set aws.region in twelve.config.ts or AWS_REGION to name it"]),
  ];
  return { document, notes };
}
