import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { adapters } from "../../adapters/index.ts";
import { buildFormation } from "../../src/build/build.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { Target } from "../../src/formation/types.ts";
import { REPO } from "./cli.ts";

/**
 * A throwaway app directory with the given files. Its node_modules links to the repository's,
 * so `hono` resolves as it would after `npm install`.
 */
export function makeProject(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-test-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

/** Copies a fixture app from test/fixtures into a fresh project directory. */
export function copyFixture(name: string): string {
  const from = path.join(REPO, "test", "fixtures", name);
  const files: Record<string, string> = {};
  for (const file of fs.readdirSync(from, { recursive: true, withFileTypes: false }) as string[]) {
    const full = path.join(from, file);
    if (fs.statSync(full).isFile()) files[file] = fs.readFileSync(full, "utf8");
  }
  return makeProject(files);
}

export function removeProject(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The repository's own formation (the shop example) in a fresh project; `edit` changes its config text. */
export function shopProject(edit: (config: string) => string = (config) => config): string {
  const files: Record<string, string> = { "twelve.config.ts": edit(fs.readFileSync(path.join(REPO, "twelve.config.ts"), "utf8")) };
  for (const name of fs.readdirSync(path.join(REPO, "examples/shop/src"))) files[`examples/shop/src/${name}`] = fs.readFileSync(path.join(REPO, "examples/shop/src", name), "utf8");
  return makeProject(files);
}

/** Loads and builds a project's formation for a target, as `twelve build` does. */
export async function buildProject(dir: string, target: Target, stage = "dev") {
  const { formation } = await loadConfig({ cwd: dir, target, stage, adapters });
  const built = await buildFormation(formation, { stage, adapter: adapters[target] });
  return { formation, ...built };
}
