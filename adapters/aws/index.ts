import type { Adapter } from "../../src/adapter.ts";
import { awsBuild } from "./build.ts";
import { AWS_PACKAGES } from "./client.ts";
import { explainAwsError } from "./errors.ts";
import { awsLimits } from "./limits.ts";
import { awsPolicy } from "./policy.ts";

/** AWS Lambda, SQS and EventBridge Scheduler, through the AWS SDK v3 (loaded only by cloud commands). */
export const awsAdapter: Adapter = {
  target: "aws",
  platform: "AWS",
  webUrlName: "Function URL",
  packages: AWS_PACKAGES,
  limits: awsLimits,
  ...awsBuild,
  // The dev hosts load only for twelve dev, never for a build.
  dev: async () => (await import("./dev.ts")).awsDevEngine(),
  connect: async (formation, stage, options) => (await import("./stage.ts")).awsStage(formation, stage, options),
  explainError: explainAwsError,
  policy: awsPolicy,
};
