// The baseline for `twelve build`: what a user scripting esbuild by hand would run for the
// same entries, with the same settings (bundle, minify, source maps, ESM for Node 22).
import * as esbuild from "esbuild";

const [outdir, ...entries] = process.argv.slice(2);
await Promise.all(
  entries.map((entry) =>
    esbuild.build({
      entryPoints: [entry],
      bundle: true,
      minify: true,
      sourcemap: "linked",
      platform: "node",
      target: "node22",
      format: "esm",
      outdir: `${outdir}/${entry.split("/").at(-1).replace(/\.ts$/, "")}`,
      outExtension: { ".js": ".mjs" },
      logLevel: "error",
    }),
  ),
);
