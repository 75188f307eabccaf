import { makeProject } from "./project.ts";

/**
 * A small app for the ownership tests: one web, one worker and one clock process, named
 * `<prefix>web`, `<prefix>jobs` and `<prefix>tick`. With app "own-b" and no prefix, and app
 * "own" with prefix "c-", stage "c" of the first and stage "b" of the second name every process
 * alike (own-b-c-web, ...): two apps whose names meet.
 */
export function ownershipApp(app: string, prefix = "", target: "aws" | "cloudflare" = "aws"): string {
  const config = `import { defineConfig } from "twelve";
export default defineConfig({
  app: "${app}",
  target: "${target}",
  processes: {
    "${prefix}web": { type: "web", entry: "src/web.ts", concurrency: 2 },
    "${prefix}jobs": { type: "worker", entry: "src/jobs.ts", concurrency: 2, batchSize: 5, maxRetries: 1, timeout: 30 },
    "${prefix}tick": { type: "clock", entry: "src/tick.ts", schedule: "0 3 * * *" },
  },
  aws: { region: "eu-west-1" },
  cloudflare: { compatibilityDate: "2026-08-01" },
});
`;
  return makeProject({
    "twelve.config.ts": config,
    "src/web.ts": `export default { fetch: () => new Response("${app}") };\n`,
    "src/jobs.ts": `export default { async queue(batch) { batch.ackAll(); } };\n`,
    "src/tick.ts": `export default { async scheduled() {} };\n`,
  });
}
