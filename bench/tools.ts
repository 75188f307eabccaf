import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { packCheckout } from "../test/support/registry.ts";

const REPO = path.resolve(import.meta.dirname, "..");

/**
 * The load and timing tools a bench uses: checked, installed from Debian's packages when
 * missing (as root, which these machines are), and said out loud either way.
 */
export function ensureDebianTool(command: string, pkg = command): boolean {
  if (spawnSync("which", [command]).status === 0) {
    console.log(`using ${command} (${firstLine(command)})`);
    return true;
  }
  console.log(`${command} not found: installing Debian's ${pkg} with apt-get`);
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  const install = update.status === 0 ? spawnSync("apt-get", ["install", "-y", "-qq", pkg], { stdio: "inherit" }) : update;
  if (install.status !== 0 || spawnSync("which", [command]).status !== 0) {
    console.log(`could not install ${pkg}; this bench falls back to timing in Node`);
    return false;
  }
  console.log(`installed ${command} (${firstLine(command)})`);
  return true;
}

function firstLine(command: string): string {
  try {
    return execFileSync(command, ["--version"], { encoding: "utf8" }).split("\n")[0] ?? "";
  } catch {
    return "version unknown";
  }
}

export interface Timing {
  name: string;
  meanMs: number;
  stddevMs: number;
  runs: number;
}

/** Times shell commands in one run, with hyperfine when present, else a loop of spawnSync. */
/** `prepare`: run before each run of its command (and each warmup), untimed. */
export function timeCommands(commands: { name: string; command: string; prepare?: string }[], options: { runs: number; warmup: number; cwd: string; hyperfine: boolean }): Timing[] {
  if (options.hyperfine) {
    const exportFile = `/tmp/twelve-bench-${process.pid}.json`;
    const args = ["--style", "basic", "--runs", String(options.runs), "--warmup", String(options.warmup), "--export-json", exportFile];
    // hyperfine takes either one --prepare for all commands or one for each, in their order.
    if (commands.some((c) => c.prepare)) for (const c of commands) args.push("--prepare", c.prepare ?? "true");
    for (const c of commands) args.push("--command-name", c.name, c.command);
    const result = spawnSync("hyperfine", args, { cwd: options.cwd, stdio: ["ignore", "inherit", "inherit"] });
    if (result.status !== 0) throw new Error(`hyperfine failed (${result.status})`);
    const parsed = JSON.parse(execFileSync("cat", [exportFile], { encoding: "utf8" })) as { results: { command: string; mean: number; stddev: number; times: number[] }[] };
    return parsed.results.map((r) => ({ name: r.command, meanMs: r.mean * 1000, stddevMs: (r.stddev ?? 0) * 1000, runs: r.times.length }));
  }
  return commands.map((c) => {
    const prepare = () => c.prepare && spawnSync("sh", ["-c", c.prepare], { cwd: options.cwd });
    for (let i = 0; i < options.warmup; i++) prepare(), spawnSync("sh", ["-c", c.command], { cwd: options.cwd });
    const times: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      prepare();
      const start = performance.now();
      const result = spawnSync("sh", ["-c", c.command], { cwd: options.cwd });
      if (result.status !== 0) throw new Error(`${c.name} failed: ${result.stderr}`);
      times.push(performance.now() - start);
    }
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    const stddev = Math.sqrt(times.reduce((a, b) => a + (b - mean) ** 2, 0) / times.length);
    return { name: c.name, meanMs: mean, stddevMs: stddev, runs: times.length };
  });
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

let packed: Promise<{ tarball: string; bin: string }> | undefined;

/**
 * twelve as users install it: this checkout packed (its prepack step compiles dist/) once per
 * bench run, and unpacked with the checkout's node_modules as its dependencies. The benches time
 * its `bin`, not the checkout's bin/twelve.mjs, which runs the TypeScript source.
 */
export function packedTwelve(): Promise<{ tarball: string; bin: string }> {
  packed ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-bench-package-"));
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    console.log("packing twelve (prepack: tsc into dist/); the benches run the packed command...");
    const tarball = await packCheckout(dir);
    execFileSync("tar", ["-xzf", tarball, "-C", dir]);
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "package", "node_modules"));
    return { tarball, bin: path.join(dir, "package", "bin", "twelve.mjs") };
  })();
  return packed;
}
