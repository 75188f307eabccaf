import path from "node:path";
import { fileURLToPath } from "node:url";

/** The root of the twelve package, wherever it is installed. */
export const TWELVE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** What `import ... from "twelve"` means inside a config or a process: the portable runtime. */
export const TWELVE_MODULES: Record<string, string> = {
  twelve: path.join(TWELVE_ROOT, "src/index.ts"),
  "twelve/runtime": path.join(TWELVE_ROOT, "src/runtime/index.ts"),
};
