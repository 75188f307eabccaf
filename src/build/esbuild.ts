import { createRequire } from "node:module";

/**
 * esbuild, loaded through require: it is a CommonJS package, and importing it from ESM has
 * Node scan its 100 KB for export names first, about 8 ms of every command that loads a config.
 */
export const esbuild: typeof import("esbuild") = createRequire(import.meta.url)("esbuild");
