import type * as esbuild from "esbuild";
import type { Problem } from "../src/formation/problems.ts";
import type { Formation, Process, Target } from "../src/formation/types.ts";
import type { Bundle } from "../src/build/bundle.ts";

/** A file twelve wrote, as the manifest lists it. */
export interface Artifact {
  /** Relative to the target's build folder, with forward slashes. */
  path: string;
  sha256: string;
  bytes: number;
}

export interface PackageInput {
  formation: Formation;
  process: Process;
  stage: string;
  bundle: Bundle;
  /** The workers this process may send to. */
  sends: string[];
  /** The target's build folder, .twelve/build/<target>. */
  outDir: string;
}

export interface PackagedProcess {
  artifacts: Record<string, Artifact>;
  /** Platform facts a deploy needs (runtime, handler, crons, code hash...). */
  platform: Record<string, unknown>;
  /** Choices the platform forced, said out loud (a cap it cannot hold, a UTC-only cron...). */
  notes: string[];
}

/** One platform: how to check, bundle and package a formation for it. */
export interface Adapter {
  target: Target;
  /** Problems only this platform has with a formation (beyond the ranges in formation/limits.ts). */
  check(formation: Formation): Problem[];
  bundleOptions(process: Process): {
    wrapper: { module: string; factory: string };
    exportAs: "handler" | "default";
    fileName: string;
    options: esbuild.BuildOptions;
  };
  package(input: PackageInput): Promise<PackagedProcess>;
}
