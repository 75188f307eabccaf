// npm's prepack step: compiles src/ and adapters/ into dist/ (JavaScript and .d.ts), so the
// published package runs on Node without type stripping, which Node refuses inside node_modules.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
fs.rmSync(dist, { recursive: true, force: true });

const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
// stdout is npm pack --json's: tsc reports on stderr.
const compiled = spawnSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: ["ignore", 2, 2] });
if (compiled.status !== 0) {
  console.error("prepack: tsc failed; nothing was packed");
  process.exit(1);
}

// tsc rewrites ".ts" to ".js" in the JavaScript it emits but leaves declarations naming the
// ".ts" files, which are not shipped: point them at the .js (and so .d.ts) beside them.
let declarations = 0;
for (const file of fs.readdirSync(dist, { recursive: true }) as string[]) {
  const full = path.join(dist, file);
  if (file.endsWith(".d.ts")) {
    const text = fs.readFileSync(full, "utf8");
    const rewritten = text.replace(/((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g, "$1$2.js$3");
    if (rewritten !== text) fs.writeFileSync(full, rewritten);
    declarations++;
  } else if (file.endsWith(".js")) {
    const text = fs.readFileSync(full, "utf8");
    // A ".ts" import left in emitted JavaScript would fail inside node_modules: refuse to pack it.
    const left = /(?:from|import)\s*\(?\s*["']\.{1,2}\/[^"']+\.ts["']/.exec(text);
    if (left) {
      console.error(`prepack: ${file} still imports a .ts file (${left[0]})`);
      process.exit(1);
    }
  }
}
console.error(`prepack: compiled src/ and adapters/ into dist/ (${declarations} declaration files)`);

// The command itself as one module (its own code, zod and acorn; other packages stay imports):
// loading ~230 files one by one cost every command ~40 ms. It sits beside main.js, two folders
// below dist/, so the paths twelve finds its own modules by (src/build/twelve-paths.ts) hold.
// The wrappers, dev hosts and runtime it bundles into apps stay the separate files of dist/.
const { build } = await import("esbuild");
const INLINED = /^(zod|acorn)(\/|$)/;
await build({
  entryPoints: [{ in: path.join(dist, "src", "cli", "main.js"), out: "main.bundle" }],
  outdir: path.join(dist, "src", "cli"),
  // Each command's own code in chunks beside it, loaded when that command runs.
  splitting: true,
  chunkNames: "main.chunk-[hash]",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node22",
  logLevel: "warning",
  plugins: [{
    name: "other-packages-external",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (INLINED.test(args.path) ? undefined : { path: args.path, external: true }));
    },
  }],
});
// Its types are main.js's (every .js of the package has its .d.ts).
fs.writeFileSync(path.join(dist, "src", "cli", "main.bundle.d.ts"), 'export * from "./main.js";\n');
console.error("prepack: bundled the twelve command into dist/src/cli/main.bundle.js");
