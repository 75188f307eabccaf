// twelve runs from its TypeScript source, but loading ~50 type-stripped files and zod's many
// modules costs ~100 ms per command. So the CLI is also kept as one prebuilt ES module in
// dist/, rebuilt here with esbuild whenever any source file is newer than it (a fresh clone,
// a git pull, an edit): no build step for anyone to remember.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIST = path.join(ROOT, "dist", "twelve.mjs");
const SOURCES = ["src", "adapters", "package.json"];

function newestSource() {
  let newest = 0;
  const visit = (file) => {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) for (const name of fs.readdirSync(file)) visit(path.join(file, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const entry of SOURCES) visit(path.join(ROOT, entry));
  return newest;
}

async function rebuild() {
  const esbuild = await import("esbuild");
  const temp = `${DIST}.${process.pid}.tmp`;
  await esbuild.build({
    entryPoints: [path.join(ROOT, "src/cli/main.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node22",
    outfile: temp,
    // Not minified: a crash's stack stays readable.
    logLevel: "silent",
    plugins: [{
      // zod is bundled (one file loads faster than its many); other packages stay external.
      name: "externals",
      setup(build) {
        build.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path === "zod" || args.path.startsWith("zod/") || args.path.startsWith("node:") ? undefined : { path: args.path, external: true },
        );
      },
    }],
  });
  // Concurrent twelve commands may rebuild at once: each writes its own file, the rename is atomic.
  fs.renameSync(temp, DIST);
}

/** The CLI's main(), from dist/ when it is current, else from source. */
export async function loadMain() {
  try {
    const built = fs.existsSync(DIST) ? fs.statSync(DIST).mtimeMs : 0;
    if (built < newestSource()) await rebuild();
    return (await import(DIST)).main;
  } catch {
    // No esbuild, a read-only install, a failed build: the source runs all the same, only slower.
    return (await import("../src/cli/main.ts")).main;
  }
}
