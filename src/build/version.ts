import { readFileSync } from "node:fs";
import path from "node:path";
import { TWELVE_ROOT } from "./twelve-paths.ts";

export const TWELVE_VERSION: string = (
  JSON.parse(readFileSync(path.join(TWELVE_ROOT, "package.json"), "utf8")) as { version: string }
).version;
