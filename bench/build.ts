import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { deterministicZip } from "../src/build/zip.ts";
import { packedTwelve, ratio, timeCommands, type Timing } from "./tools.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const NODE = process.execPath;
const ENTRIES = ["examples/shop/src/api.ts", "examples/shop/src/mailer.ts", "examples/shop/src/nightly.ts"];
const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * issue 2's figures, in one run each:
 *  1. `twelve build --target aws` of the root formation against raw esbuild on the same entries;
 *  2. `twelve build --target cloudflare` against `wrangler deploy --dry-run` once per process;
 *  3. a hello-world web process: bundle bytes and import time against a hand-written handler.
 */
export async function benchBuild(options: { hyperfine: boolean; runs: number }): Promise<void> {
  const { bin } = await packedTwelve();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-bench-build-"));
  try {
    const timings = [...compareBuilds(bin, scratch, options), ...compareWrangler(bin, scratch, options)];
    const get = (name: string) => timings.find((t) => t.name === name) as Timing;
    console.log("\n## build: wall time, mean of", options.runs, "runs");
    for (const t of timings) console.log(`  ${t.name.padEnd(44)} ${t.meanMs.toFixed(1).padStart(8)} ms ± ${t.stddevMs.toFixed(1)}`);
    console.log(`  twelve build (aws) / raw esbuild, Node script: ${ratio(get("twelve build --target aws").meanMs, get("raw esbuild (Node script, JS API)").meanMs)}   (aim: at most 1.5x)`);
    console.log(`  twelve build (aws), no cache / raw esbuild, Node script: ${ratio(get("twelve build --target aws, no .twelve/cache").meanMs, get("raw esbuild (Node script, JS API)").meanMs)}`);
    console.log(`  twelve build (aws) / raw esbuild, native CLI:  ${ratio(get("twelve build --target aws").meanMs, get("raw esbuild (native CLI)").meanMs)}`);
    console.log(`  twelve build (cloudflare) / wrangler dry-run x3: ${ratio(get("twelve build --target cloudflare").meanMs, get("wrangler deploy --dry-run, once per process").meanMs)}`);
    await compareHello(bin, scratch);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function compareBuilds(twelve: string, scratch: string, options: { hyperfine: boolean; runs: number }): Timing[] {
  const entries = ENTRIES.join(" ");
  return timeCommands(
    [
      { name: "twelve build --target aws", command: `${NODE} ${quote(twelve)} build --target aws` },
      // The first build of an app, or one after its cache went: the config compiled and checked,
      // each source parsed for its sends and its entry's handler.
      { name: "twelve build --target aws, no .twelve/cache", command: `${NODE} ${quote(twelve)} build --target aws`, prepare: "rm -rf .twelve/cache" },
      { name: "raw esbuild (Node script, JS API)", command: `${NODE} bench/raw-esbuild.mjs ${quote(path.join(scratch, "raw"))} ${entries}` },
      {
        name: "raw esbuild (native CLI)",
        command: `node_modules/.bin/esbuild ${entries} --bundle --minify --sourcemap --platform=node --target=node22 --format=esm --alias:twelve=./src/index.ts --outdir=${quote(path.join(scratch, "cli"))} --log-level=error`,
      },
    ],
    { runs: options.runs, warmup: 2, cwd: REPO, hyperfine: options.hyperfine },
  );
}

/** What a user without twelve runs: wrangler bundling and checking each process itself. */
function compareWrangler(twelve: string, scratch: string, options: { hyperfine: boolean; runs: number }): Timing[] {
  const configs = ENTRIES.map((entry) => {
    const name = path.basename(entry, ".ts");
    const file = path.join(scratch, `wrangler-${name}.json`);
    fs.writeFileSync(file, JSON.stringify({
      name: `shop-dev-${name}`,
      main: path.join(REPO, entry),
      compatibility_date: "2026-08-01",
      compatibility_flags: ["nodejs_compat"],
      alias: { twelve: path.join(REPO, "src/index.ts") },
    }));
    return file;
  });
  const home = path.join(scratch, "home");
  fs.mkdirSync(home);
  const env = `HOME=${home} XDG_CONFIG_HOME=${home}/.config WRANGLER_SEND_METRICS=false WRANGLER_HIDE_BANNER=true CI=true`;
  const wrangler = configs
    .map((c) => `${env} ${NODE} node_modules/wrangler/bin/wrangler.js deploy --dry-run --config ${quote(c)} --outdir ${quote(`${c}.out`)} >/dev/null`)
    .join(" && ");
  return timeCommands(
    [
      { name: "twelve build --target cloudflare", command: `${NODE} ${quote(twelve)} build --target cloudflare` },
      { name: "wrangler deploy --dry-run, once per process", command: wrangler },
    ],
    { runs: Math.max(3, Math.round(options.runs / 2)), warmup: 1, cwd: REPO, hyperfine: options.hyperfine },
  );
}

async function compareHello(twelve: string, scratch: string): Promise<void> {
  const hello = path.join(REPO, "bench/hello");
  execFileSync(NODE, [twelve, "build", "--target", "aws"], { cwd: hello });
  const twelveBundle = path.join(hello, ".twelve/build/aws/web/index.mjs");
  const twelveZip = path.join(hello, ".twelve/build/aws/web/function.zip");

  // The same esbuild settings as the raw baseline above (bench/raw-esbuild.mjs).
  execFileSync(NODE, [path.join(REPO, "bench/raw-esbuild.mjs"), path.join(scratch, "hand"), path.join(hello, "handwritten.ts")]);
  const handBundle = path.join(scratch, "hand/handwritten/handwritten.mjs");
  const handZip = await deterministicZip([
    { name: "index.mjs", data: fs.readFileSync(handBundle) },
    { name: "index.mjs.map", data: fs.readFileSync(`${handBundle}.map`) },
  ]);

  const importTimes = (file: string) => {
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const out = spawnSync(NODE, [path.join(REPO, "bench/import-time.mjs"), file], { encoding: "utf8" });
      times.push(Number(out.stdout.trim()));
    }
    times.sort((a, b) => a - b);
    return { p50: times[Math.floor(times.length / 2)] as number, p90: times[Math.floor(times.length * 0.9)] as number };
  };
  const twelveImport = importTimes(twelveBundle);
  const handImport = importTimes(handBundle);
  const bytes = (file: string) => fs.statSync(file).size;

  console.log("\n## hello-world web process on AWS: twelve's bundle against a hand-written hono/aws-lambda handler");
  console.log(`  bundle bytes   twelve ${bytes(twelveBundle)}  hand-written ${bytes(handBundle)}  ratio ${ratio(bytes(twelveBundle), bytes(handBundle))}`);
  console.log(`  zip bytes      twelve ${bytes(twelveZip)}  hand-written ${handZip.byteLength}  ratio ${ratio(bytes(twelveZip), handZip.byteLength)}`);
  console.log(`  import ms p50  twelve ${twelveImport.p50.toFixed(2)}  hand-written ${handImport.p50.toFixed(2)}  ratio ${ratio(twelveImport.p50, handImport.p50)}  (p90 ${twelveImport.p90.toFixed(2)} / ${handImport.p90.toFixed(2)}; 40 fresh Node processes each)`);
}
