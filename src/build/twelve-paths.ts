import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where the running copy of twelve is. A checkout runs its TypeScript source (`src/**.ts`); the
 * installed package runs the JavaScript its prepack step compiled (`dist/src/**.js`), because
 * Node strips types only outside node_modules. Either way the code beside this file is the
 * code that runs, so twelve's own modules (wrappers, dev hosts, the runtime) are found from here.
 */
const HERE = fileURLToPath(import.meta.url);

/** ".ts" in a checkout, ".js" in the installed package. */
export const CODE_EXTENSION = path.extname(HERE);

/** Whether this is a checkout of twelve running its source (not an installed package). */
export const FROM_SOURCE = CODE_EXTENSION === ".ts";

/** The folder holding the running src/ and adapters/: the checkout, or the package's dist/. */
export const CODE_ROOT = path.resolve(path.dirname(HERE), "..", "..");

/** The root of the twelve package (its package.json, templates/), wherever it is installed. */
export const TWELVE_ROOT = findRoot(CODE_ROOT);

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === "twelve") return dir;
    if (path.dirname(dir) === dir) throw new Error(`twelve's package.json not found above ${start}`);
  }
}

/** One of twelve's own modules, named from CODE_ROOT without its extension ("adapters/aws/dev/host"). */
export function ownModule(name: string): string {
  return path.join(CODE_ROOT, `${name}${CODE_EXTENSION}`);
}

/** Whether a file is part of twelve's own code (not the app's). */
export function isOwnCode(file: string): boolean {
  return ["src", "adapters"].some((dir) => file.startsWith(path.join(CODE_ROOT, dir) + path.sep));
}

/** What `import ... from "twelve"` means inside a config or a process: the portable runtime. */
export const TWELVE_MODULES: Record<string, string> = {
  twelve: ownModule("src/index"),
  "twelve/runtime": ownModule("src/runtime/index"),
};
