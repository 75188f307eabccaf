import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../src/dev/ports.ts";
import { waitFor } from "../test/support/wait.ts";
import { packedTwelve } from "./tools.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const NODE = process.execPath;

/**
 * issue 4's figures against moto_server, in one run: wall time and AWS calls (reads and
 * changes, as twelve counts them) of a first deploy of the root formation, a no-op redeploy
 * and a one-process code change, each through the real CLI.
 */
export async function benchDeploy(): Promise<void> {
  const { bin: twelve } = await packedTwelve();
  const port = await freePort();
  const moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-bench-deploy-"));
  try {
    const answers = () => fetch(`http://127.0.0.1:${port}/moto-api/`).then((r) => r.ok || undefined, () => undefined);
    const gone = () => (moto.exitCode !== null ? `moto_server exited with code ${moto.exitCode}` : undefined);
    await waitFor(answers, 30_000, `moto_server on port ${port}`, { gone });
    await fetch(`http://127.0.0.1:${port}/moto-api/config`, { method: "POST", body: JSON.stringify({ lambda: { use_docker: false } }) });
    fs.copyFileSync(path.join(REPO, "twelve.config.ts"), path.join(dir, "twelve.config.ts"));
    fs.cpSync(path.join(REPO, "examples/shop/src"), path.join(dir, "examples/shop/src"), { recursive: true });
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
    const env = { ...process.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", MAIL_API_KEY: "bench", CI: "true" };
    const deploy = (label: string) => {
      const started = performance.now();
      const result = spawnSync(NODE, [twelve, "deploy", "--stage", "bench", "--json"], { cwd: dir, env, encoding: "utf8" });
      const wall = performance.now() - started;
      if (result.status !== 0) throw new Error(`${label}: ${result.stderr}`);
      const out = JSON.parse(result.stdout) as { changes: unknown[]; calls: { reads: number; writes: number }; durationMs: number };
      return { label, wall, inside: out.durationMs, changes: out.changes.length, ...out.calls };
    };
    const rows = [deploy("first deploy (16 resources)"), deploy("no-op redeploy")];
    const mailer = path.join(dir, "examples/shop/src/mailer.ts");
    fs.writeFileSync(mailer, fs.readFileSync(mailer, "utf8").replace("digest for", "the digest for"));
    rows.push(deploy("one-process code change"));

    console.log("\n## deploy to AWS (moto_server), through the CLI, one run each");
    console.log(`  ${"".padEnd(30)} ${"wall".padStart(8)} ${"in twelve".padStart(10)} ${"reads".padStart(6)} ${"changes".padStart(8)} ${"resources changed".padStart(18)}`);
    for (const r of rows) {
      console.log(`  ${r.label.padEnd(30)} ${`${r.wall.toFixed(0)} ms`.padStart(8)} ${`${r.inside} ms`.padStart(10)} ${String(r.reads).padStart(6)} ${String(r.writes).padStart(8)} ${String(r.changes).padStart(18)}`);
    }
    console.log("  (wall includes starting Node and building; \"in twelve\" is what deploy reports; reads run in parallel)");
  } finally {
    moto.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
