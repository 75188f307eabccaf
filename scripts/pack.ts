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
