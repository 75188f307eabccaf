import type * as esbuild from "esbuild";
import type { Problem } from "../src/formation/problems.ts";
import type { Formation, Process, Target } from "../src/formation/types.ts";
import type { Bundle } from "../src/build/bundle.ts";
import type { ManifestProcess } from "../src/build/manifest.ts";
import type { BrokerMessage, Outcome } from "../src/dev/broker.ts";

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
  /** Packages an app for this platform installs beside twelve (its optional peer dependencies). */
  packages: readonly string[];
  /** Problems only this platform has with a formation (beyond the ranges in formation/limits.ts). */
  check(formation: Formation): Problem[];
  bundleOptions(process: Process): {
    wrapper: { module: string; factory: string };
    exportAs: "handler" | "default";
    fileName: string;
    options: esbuild.BuildOptions;
  };
  package(input: PackageInput): Promise<PackagedProcess>;
  /** Runs the built processes on this machine (twelve dev); loaded only when needed. */
  dev(): Promise<DevEngine>;
}

// ---- twelve dev ----

/** What twelve dev gives an engine to start one process of the formation. */
export interface DevStartInput {
  formation: Formation;
  process: Process;
  stage: string;
  /** The process as the build made it (artifacts, sends). */
  built: ManifestProcess;
  /** .twelve/build/<target> */
  outDir: string;
  /** The process's variables and the formation's secrets. */
  variables: Record<string, string>;
  /** web processes: the port to serve. */
  port: number | undefined;
  /** twelve dev's own server on 127.0.0.1 (the broker, `twelve run`, the SQS API on AWS). */
  serverUrl: string;
  /** Puts a message on a worker's queue in the durable broker. */
  send(worker: string, body: unknown, delaySeconds: number | undefined): Promise<{ id: string }>;
  /** Where the process's own output goes, line by line. */
  log(line: string): void;
}

/** One running process under twelve dev. */
export interface DevProcess {
  url?: string;
  /** workers: hands over a batch; resolves with one outcome per message, rejects on a crash or timeout. */
  deliver?(queue: string, batch: BrokerMessage[]): Promise<Outcome[]>;
  /** clocks: one run for this scheduled time. */
  fire?(scheduledTime: number): Promise<void>;
  /** Resolves with a reason when the process ends by itself (stop() leaves it pending). */
  ended: Promise<string>;
  stop(): Promise<void>;
}

/** How a platform runs a formation locally. */
export interface DevEngine {
  start(input: DevStartInput): Promise<DevProcess>;
  /** Requests from the processes to twelve dev's server that this platform's API shapes (SQS on AWS). */
  handle?(request: { target: string | undefined; body: string }, broker: DevBrokerApi): Promise<{ status: number; body: string; contentType: string } | undefined>;
}

export interface DevBrokerApi {
  send(worker: string, body: unknown, delaySeconds: number | undefined): Promise<{ id: string }>;
  /** The worker process that a queue name (`<app>-<stage>-<process>`) belongs to. */
  workerOfQueue(queueName: string): string | undefined;
}
