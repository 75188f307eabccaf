import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isUpload, startCloudflareApi, type CloudflareApi } from "../test/support/cloudflare-api.ts";
import { runProcess, type ProcessResult } from "../test/support/process.ts";
import { cloudflareTestEnv } from "../test/support/wrangler.ts";
import { packedTwelve } from "./tools.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const NODE = process.execPath;
const WRANGLER = path.join(REPO, "node_modules/wrangler/bin/wrangler.js");
const PROCESSES = ["web", "mailer", "nightly"];

interface Row {
  label: string;
  wall: number;
  calls: number;
  writes: number;
  uploads: number;
}

/**
 * issue 5's figures against the Cloudflare API stand-in, in one run: wall time and API calls
 * (all of them, twelve's and the wrangler it runs, as the stand-in records them) of a first
 * deploy of the root formation, a no-op redeploy and a one-process change, against what a user
 * does by hand without twelve: create the two queues, then `wrangler deploy` once per process.
 */
export async function benchDeployCloudflare(): Promise<void> {
  const { bin } = await packedTwelve();
  const twelveApi = await startCloudflareApi();
  const handApi = await startCloudflareApi();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-bench-cf-"));
  try {
    fs.writeFileSync(path.join(dir, "twelve.config.ts"), fs.readFileSync(path.join(REPO, "twelve.config.ts"), "utf8").replace('target: "aws"', 'target: "cloudflare"'));
    fs.cpSync(path.join(REPO, "examples/shop/src"), path.join(dir, "examples/shop/src"), { recursive: true });
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    const home = path.join(dir, ".home");
    fs.mkdirSync(home);
    const envFor = (api: CloudflareApi) => ({ ...process.env, ...cloudflareTestEnv(api, home), MAIL_API_KEY: "bench" });
    // The stand-in runs in this process: every command runs asynchronously beside it.
    const measure = async (api: CloudflareApi, label: string, run: () => Promise<void>): Promise<Row> => {
      const from = api.calls.length;
      const started = performance.now();
      await run();
      const wall = performance.now() - started;
      const calls = api.calls.slice(from);
      const uploads = calls.filter(isUpload).length;
      return { label, wall, calls: calls.length, writes: calls.filter((c) => c.method !== "GET").length, uploads };
    };
    const run = async (label: string, args: string[], api: CloudflareApi) => {
      const result: ProcessResult = await runProcess(NODE, args, { cwd: dir, env: envFor(api) });
      if (result.code !== 0) throw new Error(`${label} failed:\n${result.stdout}\n${result.stderr}`);
    };
    const twelve = (args: string[], api: CloudflareApi) => run(`twelve ${args.join(" ")}`, [bin, ...args, "--stage", "bench"], api);
    const wrangler = (args: string[]) => run(`wrangler ${args.join(" ")}`, [WRANGLER, ...args], handApi);

    const twelveDeploy = (label: string) => measure(twelveApi, `twelve: ${label}`, () => twelve(["deploy"], twelveApi));
    // By hand: the configs twelve built (a user would write them), queues first, one deploy per process.
    await twelve(["build"], handApi);
    const secrets = path.join(dir, ".home", "secrets.env");
    fs.writeFileSync(secrets, "MAIL_API_KEY=\n");
    const handDeploy = (label: string, processes: string[], withQueues: boolean) =>
      measure(handApi, `by hand: ${label}`, async () => {
        if (withQueues) for (const queue of ["shop-bench-mailer", "shop-bench-mailer-dlq"]) await wrangler(["queues", "create", queue]);
        for (const p of processes) await wrangler(["deploy", "--config", path.join(dir, ".twelve/build/cloudflare", p, "wrangler.json"), "--secrets-file", secrets]);
      });

    const rows: Row[] = [];
    rows.push(await twelveDeploy("first deploy"), await handDeploy("first deploy (2 queues + 3 deploys)", PROCESSES, true));
    rows.push(await twelveDeploy("no-op redeploy"), await handDeploy("redeploy (3 deploys)", PROCESSES, false));
    const mailer = path.join(dir, "examples/shop/src/mailer.ts");
    fs.writeFileSync(mailer, fs.readFileSync(mailer, "utf8").replace("digest for", "the digest for"));
    rows.push(await twelveDeploy("one-process change"));
    await twelve(["build"], handApi);
    rows.push(await handDeploy("one-process change (3 deploys)", PROCESSES, false), await handDeploy("one-process change (only mailer's deploy)", ["mailer"], false));

    console.log("\n## deploy to Cloudflare (API stand-in, real wrangler 4.164), through the CLI, one run each");
    console.log(`  ${"".padEnd(52)} ${"wall".padStart(8)} ${"API calls".padStart(10)} ${"writes".padStart(7)} ${"uploads".padStart(8)}`);
    for (const r of rows) {
      console.log(`  ${r.label.padEnd(52)} ${`${r.wall.toFixed(0)} ms`.padStart(8)} ${String(r.calls).padStart(10)} ${String(r.writes).padStart(7)} ${String(r.uploads).padStart(8)}`);
    }
    const ratio = (a: number, b: number) => `${(rows[a]!.wall / rows[b]!.wall).toFixed(2)}x`;
    console.log(`  twelve / by hand, wall: first ${ratio(0, 1)}, no-op ${ratio(2, 3)}, one change ${ratio(4, 5)} (${ratio(4, 6)} against deploying only the changed process)`);
    console.log("  (twelve's wall includes building; by hand runs wrangler once per command, one after another, as a user would)");
  } finally {
    await twelveApi.stop();
    await handApi.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
