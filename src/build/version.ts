import { readFileSync } from "node:fs";
import path from "node:path";
import { TWELVE_ROOT } from "./twelve-paths.ts";

/** twelve's own package.json, read once: its version, the Node it needs, its optional peers. */
export const TWELVE_MANIFEST = JSON.parse(readFileSync(path.join(TWELVE_ROOT, "package.json"), "utf8")) as {
  version: string;
  engines: { node: string };
  peerDependencies?: Record<string, string>;
};

export const TWELVE_VERSION: string = TWELVE_MANIFEST.version;
