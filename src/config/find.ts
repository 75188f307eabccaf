import fs from "node:fs";
import path from "node:path";
import { usageError } from "../errors.ts";

export const CONFIG_NAMES = ["twelve.config.ts", "twelve.config.mts", "twelve.config.js", "twelve.config.mjs"];

/** The config file: `--config` as given, else the first of CONFIG_NAMES in the directory. */
export function findConfig(cwd: string, explicit?: string): string {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!fs.existsSync(file)) throw usageError(`--config ${explicit}: no such file (${file})`, "Check the path, or leave --config out to use twelve.config.ts in the current directory.");
    return file;
  }
  for (const name of CONFIG_NAMES) {
    const file = path.join(cwd, name);
    if (fs.existsSync(file)) return file;
  }
  throw usageError(`No twelve.config.ts in ${cwd}`, "Run `npx twelve init` to start an app here, or pass --cwd DIR or --config FILE.");
}
