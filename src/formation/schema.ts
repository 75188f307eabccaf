import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { LOG_RETENTION_DAYS } from "./limits.ts";
import { APP_PATTERN } from "./names.ts";

/**
 * The shape of twelve.config.ts. Ranges that depend on the target are checked later
 * (validate.ts), so that one schema serves both platforms and `--target` can switch.
 * zod's mini API: the same checks and issues as its classic one, and, being functions, what
 * the command does not use is left out of its bundle (a third of classic's loading time).
 */

// Mini sets no locale itself: zod's English messages, as its classic API gives them.
z.config(en());

const envName = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
  error: "expected a variable name (letters, digits, _; not starting with a digit)",
}));
const envMap = z.record(envName, z.string({ error: "expected a string value" }));
const wholeNumber = z.number().check(z.int({ error: "expected a whole number" }));
const positive = wholeNumber.check(z.minimum(1, { error: "expected a whole number of at least 1" }));

const common = {
  entry: z.string().check(z.minLength(1, { error: "expected a path to the process's source file" })),
  memory: z.optional(positive),
  timeout: z.optional(positive),
  env: z.optional(envMap),
};

const web = z.strictObject({ type: z.literal("web"), concurrency: positive, ...common });
const worker = z.strictObject({
  type: z.literal("worker"),
  concurrency: positive,
  batchSize: z.optional(positive),
  maxRetries: z.optional(wholeNumber.check(z.minimum(0, { error: "expected a whole number of at least 0" }))),
  aws: z.optional(
    z.strictObject({ recursiveLoop: z.optional(z.enum(["allow", "terminate"], { error: 'expected "allow" or "terminate" (Lambda\'s recursive loop detection)' })) }),
  ),
  ...common,
});
const clock = z.strictObject({
  type: z.literal("clock"),
  schedule: z.string({ error: 'expected a crontab line such as "0 3 * * *"' }),
  timezone: z.optional(z.string()),
  concurrency: z.optional(z.literal(1, { error: "clocks run one at a time: leave concurrency out or set it to 1" })),
  ...common,
});

export const processSchema = z.discriminatedUnion("type", [web, worker, clock], {
  error: (issue) =>
    issue.code === "invalid_union"
      ? `expected type "web", "worker" or "clock", got ${JSON.stringify((issue.input as { type?: unknown } | undefined)?.type)}`
      : undefined,
});

export const configSchema = z.strictObject({
  app: z.string().check(z.regex(APP_PATTERN, {
    error: "expected 2 to 31 characters: a lower-case letter, then letters, digits or hyphens (it prefixes every cloud resource name)",
  })),
  target: z.optional(z.enum(["aws", "cloudflare"], { error: 'expected "aws" or "cloudflare"' })),
  processes: z.record(z.string(), processSchema).check(z.refine((p) => Object.keys(p).length > 0, {
    error: "expected at least one process",
  })),
  env: z.optional(envMap),
  secrets: z.optional(z.array(envName)),
  aws: z.optional(
    z.strictObject({
      region: z.optional(z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region such as "eu-west-1"' }))),
      memory: z.optional(positive),
      timeout: z.optional(positive),
      architecture: z.optional(z.enum(["arm64", "x86_64"], { error: 'expected "arm64" or "x86_64"' })),
      logRetentionDays: z.optional(
        z.number().check(z.refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), { error: `expected one of CloudWatch Logs' retention periods in days: ${LOG_RETENTION_DAYS.join(", ")}` })),
      ),
    }),
  ),
  cloudflare: z.optional(
    z.strictObject({
      compatibilityDate: z.optional(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a date such as "2026-08-01"' }))),
      compatibilityFlags: z.optional(z.array(z.string())),
      accountId: z.optional(z.string().check(z.regex(/^[0-9a-f]{32}$/, { error: "expected a 32-character hex Cloudflare account id" }))),
    }),
  ),
});

export type ParsedConfig = z.infer<typeof configSchema>;
