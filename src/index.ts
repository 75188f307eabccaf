// The package's main entry: what twelve.config.ts and process code import from "twelve".
export { defineConfig } from "./formation/define.ts";
export * from "./runtime/index.ts";
export type {
  ClockProcessConfig,
  ProcessConfig,
  Target,
  TwelveConfig,
  WebProcessConfig,
  WorkerProcessConfig,
} from "./formation/types.ts";
