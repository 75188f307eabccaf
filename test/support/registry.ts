import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { REPO } from "./cli.ts";
import { runProcess } from "./process.ts";

/**
 * A local npm registry on 127.0.0.1, so tests (and the install bench) can `npm install` and
 * `npx` an app exactly as a user does, without the network. It serves every package of this
 * repository's package-lock.json, with the manifests the lockfile records and the tarballs the
 * project's own `npm ci` left in npm's cache, plus packed tarballs of its own (twelve itself).
 * npm resolves ranges against it as against registry.npmjs.org; a package it does not have is
 * a 404, so an install that needs the network fails here too.
 */
export interface LocalRegistry {
  url: string;
  /** Packument and tarball requests, in order ("GET /zod", "GET /zod/-/zod-4.6.7.tgz"). */
  requests: string[];
  /** Bytes of tarballs sent so far. */
  readonly bytesServed: number;
  close(): Promise<void>;
}

/** What npm's install needs of a version, as the registry's abbreviated metadata and the lockfile both hold it. */
interface Requirements {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  bin?: Record<string, string> | string;
  engines?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  hasInstallScript?: boolean;
}

interface Version extends Requirements {
  name: string;
  version: string;
  dist: { tarball: string; integrity: string };
}

/** `tarballs`: packed packages to serve beside the lockfile's (their package.json is read from inside). */
export async function startRegistry(tarballs: string[] = []): Promise<LocalRegistry> {
  const packuments = new Map<string, Map<string, Version>>();
  const files = new Map<string, () => Buffer | undefined>();
  const cache = npmCache();
  const requests: string[] = [];
  let bytesServed = 0;
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? "/").split("?")[0] ?? "/");
    requests.push(`${req.method} ${url}`);
    const tarball = files.get(url)?.();
    if (tarball) {
      bytesServed += tarball.length;
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": tarball.length });
      return res.end(tarball);
    }
    const versions = packuments.get(url.slice(1));
    if (!versions) {
      res.writeHead(404, { "content-type": "application/json" });
      return res.end(JSON.stringify({ error: "Not found" }));
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(packument(url.slice(1), versions, base)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const add = (manifest: Requirements & { name: string; version: string }, integrity: string, read: () => Buffer | undefined) => {
    const tarballPath = `/${manifest.name}/-/${manifest.name.split("/").at(-1)}-${manifest.version}.tgz`;
    const versions = packuments.get(manifest.name) ?? new Map<string, Version>();
    versions.set(manifest.version, { ...manifest, dist: { tarball: `${base}${tarballPath}`, integrity } });
    packuments.set(manifest.name, versions);
    files.set(tarballPath, read);
  };

  const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  for (const [where, entry] of Object.entries(lock.packages)) {
    if (!where || entry.link || !entry.integrity || !entry.version) continue;
    const name = entry.name ?? where.slice(where.lastIndexOf("node_modules/") + "node_modules/".length);
    const { integrity } = entry;
    add({ name, version: entry.version, ...pick(entry) }, integrity, () => fromCache(cache, integrity));
  }
  for (const file of tarballs) {
    const data = fs.readFileSync(file);
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", file, "package/package.json"], { encoding: "utf8" })) as LockEntry & { name: string; version: string };
    add({ name: manifest.name, version: manifest.version, ...pick(manifest) }, `sha512-${createHash("sha512").update(data).digest("base64")}`, () => data);
  }

  return {
    url: base,
    requests,
    get bytesServed() {
      return bytesServed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `npm pack` of this checkout (its prepack step compiles dist/) into `destination`; the tarball's path. */
export async function packCheckout(destination: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const packed = await runProcess("npm", ["pack", "--pack-destination", destination, "--json"], { cwd: REPO, env });
  if (packed.code !== 0) throw new Error(`npm pack failed (exit ${packed.code}):\n${packed.stderr}`);
  return path.join(destination, (JSON.parse(packed.stdout) as { filename: string }[])[0]?.filename ?? "");
}

/** The environment for npm and npx to use this registry, with a cache of their own. */
export function registryEnv(registry: LocalRegistry, cacheDir: string): NodeJS.ProcessEnv {
  return {
    npm_config_registry: `${registry.url}/`,
    npm_config_cache: cacheDir,
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    npm_config_yes: "true",
  };
}

interface LockEntry extends Requirements {
  name?: string;
  version?: string;
  integrity?: string;
  link?: boolean;
  scripts?: Record<string, string>;
}

function pick(entry: LockEntry): Requirements {
  const { dependencies, optionalDependencies, peerDependencies, peerDependenciesMeta, bin, engines, os: platforms, cpu } = entry;
  const hasInstallScript = entry.hasInstallScript ?? Boolean(entry.scripts?.preinstall || entry.scripts?.install || entry.scripts?.postinstall);
  return JSON.parse(JSON.stringify({ dependencies, optionalDependencies, peerDependencies, peerDependenciesMeta, bin, engines, os: platforms, cpu, hasInstallScript: hasInstallScript || undefined })) as Requirements;
}

function packument(name: string, versions: Map<string, Version>, base: string) {
  const sorted = [...versions.keys()].sort(compareVersions);
  const stable = sorted.filter((v) => !v.includes("-"));
  return { name, "dist-tags": { latest: stable.at(-1) ?? sorted.at(-1) }, versions: Object.fromEntries(versions), _registry: base };
}

function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const [p, q] = [x[i], y[i]];
    if (p === q) continue;
    if (p === undefined) return 1;
    if (q === undefined) return -1;
    if (typeof p === "number" && typeof q === "number") return p - q;
    return String(p).localeCompare(String(q));
  }
  return 0;
}

/** npm's cache folder: where `npm ci` left every tarball it fetched, filed by integrity. */
function npmCache(): string {
  try {
    return path.join(execFileSync("npm", ["config", "get", "cache"], { encoding: "utf8" }).trim(), "_cacache");
  } catch {
    return path.join(os.homedir(), ".npm", "_cacache");
  }
}

function fromCache(cache: string, integrity: string): Buffer | undefined {
  const [algorithm, digest] = integrity.split(" ")[0]?.split("-") ?? [];
  if (!algorithm || !digest) return undefined;
  const hex = Buffer.from(digest, "base64").toString("hex");
  const file = path.join(cache, "content-v2", algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
  return fs.existsSync(file) ? fs.readFileSync(file) : undefined;
}
