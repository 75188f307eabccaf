import { createRequire } from "node:module";

let started = false;

/**
 * Starts esbuild's service process now, so it is up by the time the config is compiled: the
 * spawn overlaps the loading of the command's own code. Every command but init loads a config.
 * esbuild itself is required here, not at load, so that `twelve --version` does not pay for it;
 * esbuild.ts's require then finds the same module.
 */
export function startEsbuild(): void {
  if (started) return;
  started = true;
  const esbuild: typeof import("esbuild") = createRequire(import.meta.url)("esbuild");
  void esbuild.initialize({});
}
