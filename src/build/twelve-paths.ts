import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The root of the twelve package, wherever it is installed: the nearest folder above this
 * module with twelve's package.json (this module runs from src/ or from the prebuilt dist/).
 */
export const TWELVE_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === "twelve") return dir;
    if (path.dirname(dir) === dir) throw new Error(`twelve's package.json not found above ${start}`);
  }
}

/** What `import ... from "twelve"` means inside a config or a process: the portable runtime. */
export const TWELVE_MODULES: Record<string, string> = {
  twelve: path.join(TWELVE_ROOT, "src/index.ts"),
  "twelve/runtime": path.join(TWELVE_ROOT, "src/runtime/index.ts"),
};
