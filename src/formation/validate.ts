import path from "node:path";
import type { z } from "zod/mini";
import { CrontabError, parseCrontab } from "./crontab.ts";
import { checkEntry } from "./entry.ts";
import { isRange, type AdapterRegistry, type Limits } from "../adapter.ts";
import type { Range } from "./limits.ts";
import { LONGEST_SUFFIX, MAX_RESOURCE_NAME, NAME_PATTERN, resourceName } from "./names.ts";
import type { Problem } from "./problems.ts";
import { configSchema } from "./schema.ts";
import { salvage, type Salvaged } from "./salvage.ts";
import { isTimeZone } from "./timezone.ts";
import { DEFAULTS, TARGETS, type Formation, type Process, type Target } from "./types.ts";

export interface ValidateOptions {
  configFile: string;
  /** The platforms, for the ranges of the target. */
  adapters: AdapterRegistry;
  /** `--target`, which wins over the config's own `target`. */
  target?: string | undefined;
  stage?: string | undefined;
}

export interface FormationCheck {
  /** Usable only when there are no problems; undefined when not even the target is known. */
  formation: Formation | undefined;
  /** The processes that could be read, for the checks that follow (their entries' exports). */
  processes: Process[];
  problems: Problem[];
}

/**
 * Turns what twelve.config.ts exported into a Formation for one target, with every problem of
 * it in one pass: the shape (zod), then names, entries, schedules, variables and ranges, then
 * the target platform's own objections (adapter.check), so that fixing one never just uncovers
 * the next. Where the shape is wrong, the checks after it run on the parts that are right
 * (salvage.ts). loadConfig() adds the entries' exports and throws them all as one error.
 */
export function checkFormation(raw: unknown, options: ValidateOptions): FormationCheck {
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  const problems: Problem[] = parsed.success ? [] : parsed.error.issues.map(describeIssue);
  const config = parsed.success ? parsed.data : salvage(raw);
  if (!config) return { formation: undefined, processes: [], problems };
  const targetWritten = typeof raw === "object" && raw !== null && (raw as { target?: unknown }).target !== undefined;

  const target = resolveTarget(config, options.target, targetWritten, problems);
  const stage = options.stage ?? DEFAULTS.stage;
  const root = path.dirname(options.configFile);
  const processes: Process[] = [];

  for (const [name, spec] of Object.entries(config.processes ?? {})) {
    const at = (key: string) => `processes.${name}${key ? `.${key}` : ""}`;
    checkProcessName(config.app, stage, name, at(""), problems);
    const entry = path.resolve(root, spec.entry);
    const entryProblem = checkEntry(entry);
    if (entryProblem) problems.push({ path: at("entry"), message: `"${spec.entry}" ${entryProblem}` });

    const base = {
      name,
      entry,
      entryAsWritten: spec.entry,
      memory: spec.memory ?? config.aws?.memory ?? DEFAULTS.memory,
      timeout: spec.timeout ?? config.aws?.timeout ?? DEFAULTS.timeout,
      env: { ...config.env, ...spec.env },
    };
    if (spec.type === "clock") {
      const timezone = spec.timezone ?? DEFAULTS.timezone;
      try {
        parseCrontab(spec.schedule);
      } catch (error) {
        if (!(error instanceof CrontabError)) throw error;
        problems.push({ path: at("schedule"), message: `${error.message} (in "${spec.schedule}")` });
      }
      if (!isTimeZone(timezone)) {
        problems.push({ path: at("timezone"), message: `expected an IANA time zone such as "Europe/Berlin" or "UTC", got "${timezone}"` });
      }
      processes.push({ ...base, type: "clock", concurrency: 1, schedule: spec.schedule, timezone });
    } else if (spec.type === "worker") {
      processes.push({
        ...base,
        type: "worker",
        concurrency: spec.concurrency,
        batchSize: spec.batchSize ?? DEFAULTS.batchSize,
        maxRetries: spec.maxRetries ?? DEFAULTS.maxRetries,
        aws: { recursiveLoop: spec.aws?.recursiveLoop ?? DEFAULTS.recursiveLoop },
      });
    } else {
      processes.push({ ...base, type: "web", concurrency: spec.concurrency });
    }
  }

  const secrets = config.secrets ?? [];
  checkVariables(config, secrets, target ? options.adapters[target].limits.reservedVariables : undefined, problems);
  if (target) for (const p of processes) checkRanges(p, target, options.adapters, config, problems);
  if (!target) return { formation: undefined, processes, problems };

  const formation: Formation = {
    // Only a placeholder when the app name itself is wrong (already a problem): the platform's
    // checks below still run, and name it in their messages.
    app: config.app ?? "<app>",
    target,
    processes,
    secrets,
    aws: {
      region: config.aws?.region,
      memory: config.aws?.memory ?? DEFAULTS.memory,
      architecture: config.aws?.architecture ?? DEFAULTS.architecture,
      timeout: config.aws?.timeout ?? DEFAULTS.timeout,
      logRetentionDays: config.aws?.logRetentionDays ?? DEFAULTS.logRetentionDays,
    },
    cloudflare: {
      compatibilityDate: config.cloudflare?.compatibilityDate ?? DEFAULTS.compatibilityDate,
      compatibilityFlags: config.cloudflare?.compatibilityFlags ?? [...DEFAULTS.compatibilityFlags],
      accountId: config.cloudflare?.accountId,
    },
    configFile: options.configFile,
    root,
  };
  problems.push(...options.adapters[target].check(formation));
  return { formation, processes, problems };
}

function resolveTarget(config: Salvaged, flag: string | undefined, written: boolean, problems: Problem[]): Target | undefined {
  if (flag !== undefined) {
    if ((TARGETS as readonly string[]).includes(flag)) return flag as Target;
    problems.push({ path: "--target", message: `expected "aws" or "cloudflare", got "${flag}"` });
    return undefined;
  }
  if (config.target) return config.target;
  // A target written but wrong is already a problem of the shape.
  if (!written) problems.push({ path: "target", message: 'no target: set target: "aws" or "cloudflare" in the config, or pass --target' });
  return undefined;
}

function checkProcessName(app: string | undefined, stage: string, name: string, at: string, problems: Problem[]): void {
  if (!NAME_PATTERN.test(name)) {
    problems.push({ path: at, message: `process name "${name}" must be lower-case letters, digits and single hyphens, starting with a letter` });
    return;
  }
  if (name.endsWith("-dlq")) {
    problems.push({ path: at, message: `process name "${name}" ends in "-dlq", which twelve uses for dead-letter queues: rename it` });
  }
  // Without a valid app name (a problem of its own) the length is not known.
  const longest = app === undefined ? "" : resourceName(app, stage, name) + LONGEST_SUFFIX;
  if (longest.length > MAX_RESOURCE_NAME) {
    problems.push({
      path: at,
      message: `resource names such as "${longest}" would be ${longest.length} characters, over the platforms' limit of ${MAX_RESOURCE_NAME}: shorten the app name, the stage or the process name`,
    });
  }
}

/**
 * Plain variables and secrets end up in the same environment, so a secret obeys the same
 * rules as a variable: not twelve's own TWELVE_ names, not a name the platform sets itself
 * (a secret AWS_SECRET_ACCESS_KEY would be refused by Lambda, or replace the function's own
 * credentials).
 */
function checkVariables(config: Salvaged, secrets: string[], reserved: Limits["reservedVariables"] | undefined, problems: Problem[]): void {
  // A variable's path ends in its name; a secret's, in its index, so its message names it.
  const reservedName = (at: string, name: string, named: boolean) => {
    if (name.startsWith("TWELVE_")) problems.push({ path: at, message: `${named ? `"${name}": ` : ""}names starting with TWELVE_ are twelve's own: rename it` });
    if (reserved?.names.includes(name)) problems.push({ path: at, message: `${named ? `"${name}" ` : ""}is reserved by ${reserved.by} and set by it: rename it` });
  };
  const seen = new Set<string>();
  secrets.forEach((name, i) => {
    if (seen.has(name)) problems.push({ path: `secrets[${i}]`, message: `"${name}" is listed twice` });
    seen.add(name);
    if (config.env && name in config.env) problems.push({ path: `secrets[${i}]`, message: `"${name}" is also a plain variable in env: keep it in one place` });
    reservedName(`secrets[${i}]`, name, true);
  });
  const scopes: [string, Record<string, string> | undefined][] = [
    ["env", config.env],
    ...Object.entries(config.processes ?? {}).map(([n, p]): [string, Record<string, string> | undefined] => [`processes.${n}.env`, p.env]),
  ];
  for (const [at, vars] of scopes) {
    for (const key of Object.keys(vars ?? {})) {
      reservedName(`${at}.${key}`, key, false);
      if (at !== "env" && secrets.includes(key)) problems.push({ path: `${at}.${key}`, message: "is also a secret: keep it in one place" });
    }
  }
}

function checkRanges(p: Process, target: Target, adapters: AdapterRegistry, config: Salvaged, problems: Problem[]): void {
  const { limits } = adapters[target];
  const at = (key: string) => `processes.${p.name}.${key}`;
  const inRange = (key: string, value: number, range: Range | undefined) => {
    if (range && (value < range.min || value > range.max)) {
      problems.push({ path: at(key), message: `expected ${range.min}..${range.max} on ${target} (${range.setting}), got ${value}` });
    }
  };
  if (p.type === "web" && isRange(limits.webConcurrency)) inRange("concurrency", p.concurrency, limits.webConcurrency);
  if (p.type === "worker") {
    inRange("concurrency", p.concurrency, limits.workerConcurrency);
    inRange("batchSize", p.batchSize, limits.batchSize);
    inRange("maxRetries", p.maxRetries, limits.maxRetries);
  }
  const own = config.processes?.[p.name];
  // Values that came from the aws section are named there, so the message points at the right line.
  inRange(own?.memory !== undefined ? "memory" : "memory (from aws.memory)", p.memory, limits.memory);
  inRange(own?.timeout !== undefined ? "timeout" : "timeout (from aws.timeout)", p.timeout, limits.timeout);
}

/** A zod issue in the words a user needs: the key path and what was expected, given what was found. */
function describeIssue(issue: z.core.$ZodIssue): Problem {
  const where = issue.path.length ? issue.path.map(String).join(".") : "(config)";
  const got = "input" in issue && issue.input !== undefined ? `, got ${show(issue.input)}` : "";
  if (issue.code === "unrecognized_keys") {
    return { path: where, message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}: check the spelling` };
  }
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return { path: where, message: `is required (expected ${issue.expected})` };
  }
  if (issue.code === "invalid_type") return { path: where, message: `expected ${issue.expected}${got}` };
  if (issue.code === "invalid_union" || issue.code === "invalid_value") return { path: where, message: `${issue.message}${issue.message.includes(", got") ? "" : got}` };
  return { path: where, message: `${issue.message}${got}` };
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  return Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : typeof value;
}
