import type { Limits } from "../../src/adapter.ts";

/** SQS's largest message: "Maximum message size: 1 MiB" (SendMessage's MessageBody, in bytes). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** What AWS can hold (checked by twelve: moto checks none of it). */
export const awsLimits: Limits = {
  webConcurrency: { min: 1, max: 1000, setting: "Lambda reserved concurrency (default account limit 1000)" },
  workerConcurrency: { min: 2, max: 1000, setting: "SQS event source mapping ScalingConfig.MaximumConcurrency" },
  batchSize: { min: 1, max: 10000, setting: "SQS event source mapping BatchSize" },
  // maxReceiveCount (1..1000) is maxRetries + 1.
  maxRetries: { min: 0, max: 999, setting: "SQS redrive maxReceiveCount - 1" },
  memory: { min: 128, max: 10240, setting: "Lambda MemorySize in MB" },
  // The queue's visibility timeout is 6x the function timeout and at most 12 hours; 900 s fits.
  timeout: { min: 1, max: 900, setting: "Lambda Timeout in seconds" },
  // Lambda sets these itself and refuses them in a function's configuration.
  reservedVariables: {
    by: "AWS Lambda",
    names: [
      "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
      "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
      "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    ],
  },
  message: { bytes: MAX_MESSAGE_BYTES, setting: "an SQS message (1 MiB)" },
};
