import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runProcess } from "../test/support/process.ts";
import { registryEnv, startRegistry, type LocalRegistry } from "../test/support/registry.ts";
import { packedTwelve } from "./tools.ts";

const REPO = path.resolve(import.meta.dirname, "..");
const manifest = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string; peerDependencies: Record<string, string> };
const AWS = Object.keys(manifest.peerDependencies).filter((name) => name.startsWith("@aws-sdk/"));
const CLOUDFLARE = ["wrangler", "miniflare"];
const peers = (names: string[]) => Object.fromEntries(names.map((name) => [name, manifest.peerDependencies[name] as string]));
const twelve = { twelve: manifest.version };

/** Each app installs these dependencies and nothing else. */
const APPS: { label: string; dependencies: Record<string, string> }[] = [
  { label: "twelve, AWS app (twelve init --target aws)", dependencies: { ...twelve, ...peers(AWS) } },
  { label: "twelve, Cloudflare app (twelve init --target cloudflare)", dependencies: { ...twelve, ...peers(CLOUDFLARE) } },
  { label: "twelve with both platforms (as every app had before)", dependencies: { ...twelve, ...peers(AWS), ...peers(CLOUDFLARE) } },
  { label: "twelve alone (no platform packages)", dependencies: twelve },
  { label: "wrangler alone", dependencies: peers(["wrangler"]) },
  { label: "the AWS SDK clients alone", dependencies: peers(AWS) },
];

/**
 * Issue 10's figures: what `npm install` of a fresh app costs with twelve, against wrangler alone
 * and the AWS SDK clients alone, and which of twelve's dependencies the bytes come from. Every
 * install runs with an empty npm cache against a local registry serving this checkout's packed
 * twelve and its lockfile's tarballs (test/support/registry.ts): npm's whole work without the
 * network's variance; "download" is what the registry sent.
 */
export async function benchInstall(options: { runs: number }): Promise<void> {
  const runs = Math.max(1, Math.min(options.runs, Number(process.env.BENCH_INSTALL_RUNS ?? 3)));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-bench-install-"));
  let registry: LocalRegistry | undefined;
  try {
    registry = await startRegistry([(await packedTwelve()).tarball]);
    console.log(`local registry ${registry.url}; ${runs} fresh installs per app, each with an empty npm cache\n`);

    const rows: Row[] = [];
    for (const app of APPS) {
      const row = await measure(app, runs, registry, scratch);
      rows.push(row);
      console.log(`  ${app.label}: ${(row.meanMs / 1000).toFixed(1)} s, ${mb(row.bytes)}`);
    }
    console.log("\n## npm install of a fresh app");
    console.log("| app | install (mean) | node_modules | packages | download |");
    console.log("| --- | --- | --- | --- | --- |");
    for (const r of rows) console.log(`| ${r.label} | ${(r.meanMs / 1000).toFixed(1)} s ± ${(r.stddevMs / 1000).toFixed(1)} | ${mb(r.bytes)} | ${r.packages} | ${mb(r.downloaded)} |`);
    const [awsApp, cfApp, both, , wranglerAlone, sdkAlone] = rows as [Row, Row, Row, Row, Row, Row];
    console.log(`\n  AWS app / the AWS SDK clients alone: ${ratioOf(awsApp.bytes, sdkAlone.bytes)} size, ${ratioOf(awsApp.meanMs, sdkAlone.meanMs)} time`);
    console.log(`  Cloudflare app / wrangler alone:     ${ratioOf(cfApp.bytes, wranglerAlone.bytes)} size, ${ratioOf(cfApp.meanMs, wranglerAlone.meanMs)} time`);
    console.log(`  AWS app / both platforms:            ${ratioOf(awsApp.bytes, both.bytes)} size, ${ratioOf(awsApp.meanMs, both.meanMs)} time`);
    console.log(`  Cloudflare app / both platforms:     ${ratioOf(cfApp.bytes, both.bytes)} size, ${ratioOf(cfApp.meanMs, both.meanMs)} time`);

    console.log("\n## where the bytes of an app with both platforms come from (packages only that dependency pulls in)");
    console.log("| dependency | size | share | packages |");
    console.log("| --- | --- | --- | --- |");
    for (const share of both.shares) console.log(`| ${share.name} | ${mb(share.bytes)} | ${((100 * share.bytes) / both.bytes).toFixed(1)} % | ${share.packages} |`);
  } finally {
    await registry?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

interface Row {
  label: string;
  meanMs: number;
  stddevMs: number;
  bytes: number;
  packages: number;
  downloaded: number;
  shares: { name: string; bytes: number; packages: number }[];
}

async function measure(app: (typeof APPS)[number], runs: number, registry: LocalRegistry, scratch: string): Promise<Row> {
  const times: number[] = [];
  let dir = "";
  let downloaded = 0;
  for (let i = 0; i < runs; i++) {
    dir = fs.mkdtempSync(path.join(scratch, "app-"));
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-app", private: true, type: "module", dependencies: app.dependencies }, null, 2));
    const env = { ...process.env, ...registryEnv(registry, path.join(dir, ".npm-cache")), npm_config_userconfig: path.join(dir, ".npmrc") };
    const from = registry.bytesServed;
    const started = performance.now();
    const result = await runProcess("npm", ["install", "--no-audit", "--no-fund"], { cwd: dir, env });
    times.push(performance.now() - started);
    if (result.code !== 0) throw new Error(`npm install for "${app.label}" failed:\n${result.stderr}`);
    downloaded = registry.bytesServed - from;
    if (i < runs - 1) fs.rmSync(dir, { recursive: true, force: true });
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const stddevMs = Math.sqrt(times.reduce((a, b) => a + (b - mean) ** 2, 0) / times.length);
  const sizes = packageSizes(path.join(dir, "node_modules"));
  const shares = await sharesByDependency(dir, sizes);
  return { label: app.label, meanMs: mean, stddevMs, bytes: [...sizes.values()].reduce((a, b) => a + b, 0), packages: sizes.size, downloaded, shares };
}

/** Bytes on disk of each installed package folder (its nested node_modules counted as their own), hard links once. */
function packageSizes(nodeModules: string): Map<string, number> {
  const sizes = new Map<string, number>();
  const seen = new Set<string>();
  const visit = (dir: string, owner: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name === "node_modules") packagesIn(full);
      else if (entry.isDirectory()) visit(full, owner);
      else {
        const stat = fs.lstatSync(full);
        const inode = `${stat.dev}:${stat.ino}`;
        if (seen.has(inode)) continue;
        seen.add(inode);
        sizes.set(owner, (sizes.get(owner) ?? 0) + stat.blocks * 512);
      }
    }
  };
  const packagesIn = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === ".bin" || entry.name.startsWith(".")) continue;
      const full = path.join(dir, entry.name);
      if (entry.name.startsWith("@")) {
        for (const scoped of fs.readdirSync(full, { withFileTypes: true })) if (scoped.isDirectory()) owned(path.join(full, scoped.name));
      } else owned(full);
    }
  };
  const owned = (dir: string) => {
    sizes.set(dir, sizes.get(dir) ?? 0);
    visit(dir, dir);
  };
  packagesIn(nodeModules);
  return sizes;
}

interface LsNode {
  path?: string;
  dependencies?: Record<string, LsNode>;
}

/**
 * The app's packages by who pulls them in: twelve itself, each of twelve's own dependencies,
 * the AWS SDK clients, Cloudflare's wrangler and miniflare, anything else the app lists; what
 * more than one of those reaches is "shared" (esbuild, for one, by twelve and wrangler).
 */
async function sharesByDependency(dir: string, sizes: Map<string, number>): Promise<{ name: string; bytes: number; packages: number }[]> {
  const listed = await runProcess("npm", ["ls", "--all", "--long", "--json"], { cwd: dir, env: process.env });
  const tree = JSON.parse(listed.stdout) as LsNode;
  const groups = new Map<string, LsNode[]>();
  const add = (group: string, node: LsNode) => groups.set(group, [...(groups.get(group) ?? []), node]);
  for (const [name, node] of Object.entries(tree.dependencies ?? {})) {
    if (name === "twelve") {
      add("twelve itself", node.path === undefined ? {} : { path: node.path });
      // Its peers (the platforms' packages) are the app's own dependencies: counted there.
      for (const [dep, child] of Object.entries(node.dependencies ?? {})) if (!(dep in (tree.dependencies ?? {}))) add(`twelve's ${dep}`, child);
    } else if (AWS.includes(name)) add("the AWS SDK clients (6)", node);
    else if (CLOUDFLARE.includes(name)) add("wrangler and miniflare", node);
    else add(name, node);
  }
  const reach = (node: LsNode, into: Set<string>) => {
    if (node.path && !into.has(node.path)) {
      into.add(node.path);
      for (const child of Object.values(node.dependencies ?? {})) reach(child, into);
    }
  };
  const reached = [...groups].map(([name, nodes]) => {
    const set = new Set<string>();
    for (const node of nodes) reach(node, set);
    return { name, set };
  });
  const owners = new Map<string, number>();
  for (const { set } of reached) for (const p of set) owners.set(p, (owners.get(p) ?? 0) + 1);
  const total = (paths: string[]) => paths.reduce((a, p) => a + (sizes.get(p) ?? 0), 0);
  const rows = reached.map(({ name, set }) => {
    const own = [...set].filter((p) => owners.get(p) === 1);
    return { name, bytes: total(own), packages: own.length };
  });
  const shared = [...owners].filter(([, n]) => n > 1).map(([p]) => p);
  rows.push({ name: `shared (${shared.map((p) => path.basename(p)).join(", ")})`, bytes: total(shared), packages: shared.length });
  return rows.filter((r) => r.packages > 0).sort((a, b) => b.bytes - a.bytes);
}

const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
const ratioOf = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
