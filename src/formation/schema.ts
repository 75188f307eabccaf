import { z } from "zod";
import { LOG_RETENTION_DAYS } from "./limits.ts";
import { APP_PATTERN } from "./names.ts";

/**
 * The shape of twelve.config.ts. Ranges that depend on the target are checked later
 * (validate.ts), so that one schema serves both platforms and `--target` can switch.
 */

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: "expected a variable name (letters, digits, _; not starting with a digit)",
});
const envMap = z.record(envName, z.string({ error: "expected a string value" }));
const wholeNumber = z.number().int({ error: "expected a whole number" });
const positive = wholeNumber.min(1, { error: "expected a whole number of at least 1" });

const common = {
  entry: z.string().min(1, { error: "expected a path to the process's source file" }),
  memory: positive.optional(),
  timeout: positive.optional(),
  env: envMap.optional(),
};

const web = z.strictObject({ type: z.literal("web"), concurrency: positive, ...common });
const worker = z.strictObject({
  type: z.literal("worker"),
  concurrency: positive,
  batchSize: positive.optional(),
  maxRetries: wholeNumber.min(0, { error: "expected a whole number of at least 0" }).optional(),
  aws: z
    .strictObject({ recursiveLoop: z.enum(["allow", "terminate"], { error: 'expected "allow" or "terminate" (Lambda\'s recursive loop detection)' }).optional() })
    .optional(),
  ...common,
});
const clock = z.strictObject({
  type: z.literal("clock"),
  schedule: z.string({ error: 'expected a crontab line such as "0 3 * * *"' }),
  timezone: z.string().optional(),
  concurrency: z.literal(1, { error: "clocks run one at a time: leave concurrency out or set it to 1" }).optional(),
  ...common,
});

export const processSchema = z.discriminatedUnion("type", [web, worker, clock], {
  error: (issue) =>
    issue.code === "invalid_union"
      ? `expected type "web", "worker" or "clock", got ${JSON.stringify((issue.input as { type?: unknown } | undefined)?.type)}`
      : undefined,
});

export const configSchema = z.strictObject({
  app: z.string().regex(APP_PATTERN, {
    error: "expected 2 to 31 characters: a lower-case letter, then letters, digits or hyphens (it prefixes every cloud resource name)",
  }),
  target: z.enum(["aws", "cloudflare"], { error: 'expected "aws" or "cloudflare"' }).optional(),
  processes: z.record(z.string(), processSchema).refine((p) => Object.keys(p).length > 0, {
    error: "expected at least one process",
  }),
  env: envMap.optional(),
  secrets: z.array(envName).optional(),
  aws: z
    .strictObject({
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region such as "eu-west-1"' }).optional(),
      memory: positive.optional(),
      timeout: positive.optional(),
      architecture: z.enum(["arm64", "x86_64"], { error: 'expected "arm64" or "x86_64"' }).optional(),
      logRetentionDays: z
        .number()
        .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), { error: `expected one of CloudWatch Logs' retention periods in days: ${LOG_RETENTION_DAYS.join(", ")}` })
        .optional(),
    })
    .optional(),
  cloudflare: z
    .strictObject({
      compatibilityDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date such as "2026-08-01"' }).optional(),
      compatibilityFlags: z.array(z.string()).optional(),
      accountId: z.string().regex(/^[0-9a-f]{32}$/, { error: "expected a 32-character hex Cloudflare account id" }).optional(),
    })
    .optional(),
});

export type ParsedConfig = z.infer<typeof configSchema>;
