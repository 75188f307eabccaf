import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTwelve } from "../support/cli.ts";
import { makeProject, removeProject } from "../support/project.ts";

// Every bad config a user can write gets a message naming the process and key, what was
// expected, and exit status 2, from the real command line. Nothing gets built.
const SOURCES = {
  "src/web.ts": 'export default { fetch() { return new Response("ok"); } };\n',
  "src/jobs.ts": 'import { defineWorker } from "twelve";\nexport default defineWorker(async () => {});\n',
  "src/tick.ts": 'import { defineClock } from "twelve";\nexport default defineClock(async () => {});\n',
};

const PROCESSES = {
  web: '{ type: "web", entry: "src/web.ts", concurrency: 10 }',
  jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 5 }',
  tick: '{ type: "clock", entry: "src/tick.ts", schedule: "0 3 * * *" }',
};

function config(options: { app?: string; processes?: Record<string, string>; extra?: string } = {}): string {
  const processes = Object.entries({ ...PROCESSES, ...options.processes })
    .filter(([, spec]) => spec !== "")
    .map(([name, spec]) => `    ${JSON.stringify(name)}: ${spec},`)
    .join("\n");
  return `import { defineConfig } from "twelve";\n\nexport default defineConfig({\n  app: ${JSON.stringify(options.app ?? "demo")},\n  target: "aws",\n  processes: {\n${processes}\n  },\n${options.extra ?? ""}});\n`;
}

interface Case {
  name: string;
  files: Record<string, string>;
  args?: string[];
  /** Each must appear in stderr. */
  expect: (string | RegExp)[];
}

const cases: Case[] = [
  { name: "an unknown process type", files: { "twelve.config.ts": config({ processes: { web: '{ type: "http", entry: "src/web.ts", concurrency: 1 }' } }) }, expect: ['processes.web.type: expected type "web", "worker" or "clock", got "http"'] },
  { name: "a missing entry", files: { "twelve.config.ts": config({ processes: { web: '{ type: "web", entry: "src/nope.ts", concurrency: 1 }' } }) }, expect: ['processes.web.entry: "src/nope.ts" does not exist'] },
  { name: "an entry that is not a readable file", files: { "twelve.config.ts": config({ processes: { web: '{ type: "web", entry: "src", concurrency: 1 }' } }) }, expect: ['processes.web.entry: "src" is not a file'] },
  { name: "an entry that is not JavaScript or TypeScript", files: { "src/web.txt": "hi", "twelve.config.ts": config({ processes: { web: '{ type: "web", entry: "src/web.txt", concurrency: 1 }' } }) }, expect: ['processes.web.entry: "src/web.txt" is not a JavaScript or TypeScript file'] },
  {
    name: "a process name used twice",
    files: { "twelve.config.ts": config().replace('    "jobs":', '    "web": { type: "web", entry: "src/web.ts", concurrency: 2 },\n    "jobs":') },
    expect: ['processes.web: process "web" is defined twice (line 8)'],
  },
  { name: "an invalid process name", files: { "twelve.config.ts": config({ processes: { Mail_er: PROCESSES.jobs } }) }, expect: ['processes.Mail_er: process name "Mail_er" must be lower-case letters, digits and single hyphens'] },
  { name: "a process name that collides with dead-letter queue names", files: { "twelve.config.ts": config({ processes: { "jobs-dlq": PROCESSES.jobs } }) }, expect: ['processes.jobs-dlq: process name "jobs-dlq" ends in "-dlq"'] },
  { name: "an app name too long for resource names", files: { "twelve.config.ts": config({ app: "a-very-long-application-name-that-goes-on" }) }, expect: ["app: expected 2 to 31 characters", 'got "a-very-long-application-name-that-goes-on"'] },
  {
    name: "app, stage and process names that together pass the 63-character limit",
    files: { "twelve.config.ts": config({ app: "a-thirty-one-character-app-name", processes: { "nightly-report-generator": PROCESSES.tick } }) },
    args: ["--stage", "production"],
    expect: ['processes.nightly-report-generator: resource names such as "a-thirty-one-character-app-name-production-nightly-report-generator-sched" would be 73 characters, over the platforms\' limit of 63'],
  },
  { name: "a bad crontab", files: { "twelve.config.ts": config({ processes: { tick: '{ type: "clock", entry: "src/tick.ts", schedule: "61 * * * *" }' } }) }, expect: ['processes.tick.schedule: minute "61" is out of range 0-59 (in "61 * * * *")'] },
  { name: "a crontab with six fields", files: { "twelve.config.ts": config({ processes: { tick: '{ type: "clock", entry: "src/tick.ts", schedule: "0 0 3 * * *" }' } }) }, expect: ["processes.tick.schedule: expected 5 fields"] },
  { name: "an unknown time zone", files: { "twelve.config.ts": config({ processes: { tick: '{ type: "clock", entry: "src/tick.ts", schedule: "0 3 * * *", timezone: "Mars/Olympus" }' } }) }, expect: ['processes.tick.timezone: expected an IANA time zone such as "Europe/Berlin" or "UTC", got "Mars/Olympus"'] },
  { name: "a worker cap below the SQS mapping's minimum of 2", files: { "twelve.config.ts": config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 1 }' } }) }, expect: ["processes.jobs.concurrency: expected 2..1000 on aws (SQS event source mapping ScalingConfig.MaximumConcurrency), got 1"] },
  { name: "a worker cap above the SQS mapping's maximum", files: { "twelve.config.ts": config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 1001 }' } }) }, expect: ["processes.jobs.concurrency: expected 2..1000 on aws", "got 1001"] },
  { name: "a worker cap above Cloudflare's max_concurrency", files: { "twelve.config.ts": config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 251 }' } }) }, args: ["--target", "cloudflare"], expect: ["processes.jobs.concurrency: expected 1..250 on cloudflare (Queues consumer max_concurrency), got 251"] },
  { name: "a batch size above Cloudflare's max_batch_size", files: { "twelve.config.ts": config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 5, batchSize: 101 }' } }) }, args: ["--target", "cloudflare"], expect: ["processes.jobs.batchSize: expected 1..100 on cloudflare (Queues consumer max_batch_size), got 101"] },
  { name: "a batch size of 0", files: { "twelve.config.ts": config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 5, batchSize: 0 }' } }) }, expect: ["processes.jobs.batchSize: expected a whole number of at least 1, got 0"] },
  { name: "a batch size above SQS's 10000", files: { "twelve.config.ts": config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 5, batchSize: 10001 }' } }) }, expect: ["processes.jobs.batchSize: expected 1..10000 on aws", "got 10001"] },
  { name: "retries above Cloudflare's max_retries", files: { "twelve.config.ts": config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 5, maxRetries: 101 }' } }) }, args: ["--target", "cloudflare"], expect: ["processes.jobs.maxRetries: expected 0..100 on cloudflare"] },
  { name: "a Lambda timeout over 900 seconds", files: { "twelve.config.ts": config({ processes: { web: '{ type: "web", entry: "src/web.ts", concurrency: 1, timeout: 901 }' } }) }, expect: ["processes.web.timeout: expected 1..900 on aws (Lambda Timeout in seconds), got 901"] },
  { name: "a clock with a concurrency other than 1", files: { "twelve.config.ts": config({ processes: { tick: '{ type: "clock", entry: "src/tick.ts", schedule: "0 3 * * *", concurrency: 3 }' } }) }, expect: ["processes.tick.concurrency: clocks run one at a time"] },
  { name: "a misspelt key", files: { "twelve.config.ts": config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurency: 5, concurrency: 5 }' } }) }, expect: ['processes.jobs: unknown key "concurency": check the spelling'] },
  { name: "a missing required key", files: { "twelve.config.ts": config({ processes: { web: '{ type: "web", entry: "src/web.ts" }' } }) }, expect: ["processes.web.concurrency: is required (expected number)"] },
  { name: "a variable AWS Lambda reserves", files: { "twelve.config.ts": config({ extra: '  env: { AWS_REGION: "eu-west-1" },\n' }) }, expect: ["env.AWS_REGION: is reserved by AWS Lambda and set by it: rename it"] },
  { name: "a secret AWS Lambda reserves", files: { "twelve.config.ts": config({ extra: '  secrets: ["DATABASE_URL", "AWS_SECRET_ACCESS_KEY"],\n' }) }, expect: ['secrets[1]: "AWS_SECRET_ACCESS_KEY" is reserved by AWS Lambda and set by it: rename it'] },
  { name: "a secret in twelve's own TWELVE_ names", files: { "twelve.config.ts": config({ extra: '  secrets: ["TWELVE_TOKEN"],\n' }) }, args: ["--target", "cloudflare"], expect: ['secrets[0]: "TWELVE_TOKEN": names starting with TWELVE_ are twelve\'s own: rename it'] },
  { name: "a secret that is also a plain variable", files: { "twelve.config.ts": config({ extra: '  env: { TOKEN: "x" },\n  secrets: ["TOKEN"],\n' }) }, expect: ['secrets[0]: "TOKEN" is also a plain variable in env'] },
  {
    name: "a schedule EventBridge cannot express (day of month and day of week)",
    files: { "twelve.config.ts": config({ processes: { tick: '{ type: "clock", entry: "src/tick.ts", schedule: "0 0 1 * MON" }' } }) },
    expect: ["processes.tick.schedule:", "EventBridge Scheduler"],
  },
  {
    name: "send() to a clock, caught at build time",
    files: { "src/web.ts": 'import { send } from "twelve";\nexport default { async fetch() { await send("tick", {}); return new Response("ok"); } };\n', "twelve.config.ts": config() },
    expect: ['processes.web: send("tick") at src/web.ts:2: "tick" is a clock process, not a worker; send() takes a worker (jobs)'],
  },
  {
    name: "send() to no process at all, through a renamed import in a helper module",
    files: {
      "src/queue.ts": 'import { send as enqueue } from "twelve";\nexport const mail = () =>\n  enqueue("mailer", { to: "x" });\n',
      "src/web.ts": 'import { mail } from "./queue.ts";\nexport default { async fetch() { await mail(); return new Response("ok"); } };\n',
      "twelve.config.ts": config(),
    },
    expect: ['send("mailer") at src/queue.ts:3: no process is named "mailer"'],
  },
  { name: "a process without a default export", files: { "src/web.ts": "export const app = 1;\n", "twelve.config.ts": config() }, expect: ["processes.web.entry: src/web.ts has no default export"] },
  { name: "a config that does not compile", files: { "twelve.config.ts": "export default {\n  app: 'x',,\n};\n" }, expect: ["twelve.config.ts does not compile:", "line 2:"] },
  { name: "a config without a default export", files: { "twelve.config.ts": "export const config = {};\n" }, expect: ["twelve.config.ts has no default export"] },
  { name: "a config that throws", files: { "twelve.config.ts": 'throw new Error("no DATABASE_URL");\n' }, expect: ["twelve.config.ts threw while loading: no DATABASE_URL"] },
  { name: "an unknown --target", files: { "twelve.config.ts": config() }, args: ["--target", "azure"], expect: ['--target: expected "aws" or "cloudflare", got "azure"'] },
  { name: "an unknown option", files: { "twelve.config.ts": config() }, args: ["--tagret", "aws"], expect: ["twelve build: Unknown option '--tagret'", "twelve build --help"] },
  { name: "a bad --stage", files: { "twelve.config.ts": config() }, args: ["--stage", "Prod_1"], expect: ['--stage: stage "Prod_1" must be lower-case'] },
  { name: "no config at all", files: {}, expect: ["No twelve.config.ts in", "twelve init"] },
];

describe("bad config: message, exit status 2, nothing built", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeProject));

  it.concurrent.each(cases)("$name", async ({ files, args = [], expect: expected }) => {
    const dir = makeProject({ ...SOURCES, ...files });
    dirs.push(dir);
    const result = await runTwelve(["build", ...args], { cwd: dir });
    for (const text of expected) expect(result.stderr).toContain(text);
    expect(result.stderr).not.toContain("twelve crashed");
    expect(result.code).toBe(2);
    expect(fs.existsSync(path.join(dir, ".twelve", "build"))).toBe(false);
  });

  it("reports every problem at once, and --json gives them as data", async () => {
    const dir = makeProject({
      ...SOURCES,
      "twelve.config.ts": config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 1 }', tick: '{ type: "clock", entry: "src/tick.ts", schedule: "0 3 * * *", timezone: "Nowhere/Else" }' } }),
    });
    dirs.push(dir);
    const result = await runTwelve(["build", "--json"], { cwd: dir });
    expect(result.code).toBe(2);
    const output = JSON.parse(result.stdout) as { ok: boolean; error: { message: string; details: string[]; exitCode: number } };
    expect(output.ok).toBe(false);
    expect(output.error.exitCode).toBe(2);
    expect(output.error.message).toBe("Invalid formation in twelve.config.ts (2 problems):");
    expect(output.error.details).toEqual([
      'processes.tick.timezone: expected an IANA time zone such as "Europe/Berlin" or "UTC", got "Nowhere/Else"',
      "processes.jobs.concurrency: expected 2..1000 on aws (SQS event source mapping ScalingConfig.MaximumConcurrency), got 1",
    ]);
  });

  it("a bad config leaves the previous build as it was", async () => {
    const dir = makeProject({ ...SOURCES, "twelve.config.ts": config() });
    dirs.push(dir);
    expect((await runTwelve(["build"], { cwd: dir })).code).toBe(0);
    const manifest = fs.readFileSync(path.join(dir, ".twelve/build/aws/manifest.json"), "utf8");
    fs.writeFileSync(path.join(dir, "twelve.config.ts"), config({ processes: { jobs: '{ type: "worker", entry: "src/jobs.ts", concurrency: 1 }' } }));
    expect((await runTwelve(["build"], { cwd: dir })).code).toBe(2);
    expect(fs.readFileSync(path.join(dir, ".twelve/build/aws/manifest.json"), "utf8")).toBe(manifest);
  });
});
