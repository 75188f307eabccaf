import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTwelve } from "../support/cli.ts";
import { makeProject, removeProject } from "../support/project.ts";

// twelve checks a config in several steps: the config's own text (a key written twice), its
// shape, names, variables and ranges, the platform's own objections, each entry's exports.
// One run must list the problems of every step, so that fixing them never uncovers the next.
const CONFIG = `import { defineConfig } from "twelve";

export default defineConfig({
  app: "phases",
  target: "aws",
  processes: {
    web: { type: "web", entry: "src/web.ts", concurrency: 10, memory: 256, memory: 512 },
    jobs: { type: "worker", entry: "src/jobs.ts", concurency: 5, concurrency: 5, env: { TWELVE_MODE: "x" } },
    tick: { type: "clock", entry: "src/tick.ts", schedule: "0 0 1 * MON" },
    "twelve-lock": { type: "worker", entry: "src/jobs.ts", concurrency: 2 },
  },
  env: { AWS_REGION: "eu-west-1" },
  secrets: ["AWS_SECRET_ACCESS_KEY"],
  aws: { regoin: "eu-west-1" },
});
`;

const FILES = {
  "twelve.config.ts": CONFIG,
  "src/web.ts": 'export default { hello() { return new Response("no fetch"); } };\n',
  "src/jobs.ts": 'import { defineWorker } from "twelve";\nexport default defineWorker(async () => {});\n',
  "src/tick.ts": 'import { defineClock } from "twelve";\nexport default defineClock(async () => {});\n',
};

/** Each problem's beginning, in the order twelve lists them; where it comes from in the comment. */
const ON_EVERY_TARGET = [
  'line 7: "memory" is written twice in one object', // the config's text, as esbuild reads it
  'processes.jobs: unknown key "concurency"', // the shape
  'aws: unknown key "regoin"',
];
const AWS = [
  ...ON_EVERY_TARGET,
  'secrets[0]: "AWS_SECRET_ACCESS_KEY" is reserved by AWS Lambda', // variables, with the target's reserved names
  "env.AWS_REGION: is reserved by AWS Lambda",
  "processes.jobs.env.TWELVE_MODE: names starting with TWELVE_ are twelve's own",
  'processes.twelve-lock: "twelve-lock" is reserved on AWS', // the AWS adapter's check
  'processes.tick.schedule: "0 0 1 * MON" restricts both day-of-month and day-of-week',
  "processes.web.entry: src/web.ts has no fetch handler", // the entry's exports
];
const CLOUDFLARE = [...ON_EVERY_TARGET, "processes.jobs.env.TWELVE_MODE: names starting with TWELVE_ are twelve's own", "processes.web.entry: src/web.ts has no fetch handler"];

describe("every problem of a config in one run", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeProject));

  it.concurrent.each([
    { target: "aws", expected: AWS },
    { target: "cloudflare", expected: CLOUDFLARE },
  ])("twelve build --target $target lists them all in one error, exit 2, nothing built", async ({ target, expected }) => {
    const dir = makeProject(FILES);
    dirs.push(dir);
    const result = await runTwelve(["build", "--target", target, "--json"], { cwd: dir });
    expect(result.code).toBe(2);
    const { error } = JSON.parse(result.stdout) as { error: { message: string; details: string[] } };
    expect(error.message).toBe(`Invalid formation in twelve.config.ts (${expected.length} problems):`);
    expect(error.details.map((line, i) => line.slice(0, expected[i]?.length))).toEqual(expected);
    expect(fs.existsSync(path.join(dir, ".twelve", "build"))).toBe(false);
  });
});
