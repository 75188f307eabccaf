import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { usageError } from "./errors.ts";
import { TWELVE_MANIFEST } from "./build/version.ts";

/**
 * Packages only one platform needs (the AWS SDK clients; wrangler and miniflare) are optional
 * peer dependencies of twelve: an AWS app does not download Cloudflare's toolchain, nor a
 * Cloudflare app the AWS SDK. `twelve init` adds its target's; a command that needs one that is
 * missing says which, and the command that installs them, before it does anything.
 */
export function requirePackages(names: readonly string[], neededFor: string): void {
  const missing = names.filter((name) => resolvePackage(name) === undefined);
  if (!missing.length) return;
  throw usageError(
    `${neededFor} needs ${list(missing)}, which ${missing.length > 1 ? "are" : "is"} not installed in this app`,
    `Install ${missing.length > 1 ? "them" : "it"}: npm install --save-dev ${missing.map((name) => `${name}@${peerRange(name)}`).join(" ")}`,
  );
}

/** The folder of an installed package, as twelve's own modules resolve it; undefined when missing. */
export function packageDir(name: string): string | undefined {
  const entry = resolvePackage(name);
  if (!entry) return undefined;
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === name) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function resolvePackage(name: string): string | undefined {
  try {
    return fileURLToPath(import.meta.resolve(name));
  } catch {
    return undefined;
  }
}

/** The version range twelve asks for, from its own package.json. */
export function peerRange(name: string): string {
  return TWELVE_MANIFEST.peerDependencies?.[name] ?? "latest";
}

function list(names: string[]): string {
  return names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}
