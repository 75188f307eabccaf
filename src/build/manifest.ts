import type { ProcessType, Target } from "../formation/types.ts";

/** A file twelve wrote, as the manifest lists it. */
export interface Artifact {
  /** Relative to the target's build folder, with forward slashes. */
  path: string;
  sha256: string;
  bytes: number;
}

/**
 * .twelve/build/<target>/manifest.json: what a build made, for deploy and for people.
 * Stable: fields are only ever added. Documented in the README.
 */
export interface Manifest {
  manifestVersion: 1;
  twelveVersion: string;
  app: string;
  target: Target;
  stage: string;
  processes: ManifestProcess[];
  secrets: string[];
  notes: string[];
}

export interface ManifestProcess {
  name: string;
  type: ProcessType;
  /** Source entry, relative to the config file. */
  entry: string;
  concurrency: number;
  /** Workers this process may send() to. */
  sends: string[];
  env: Record<string, string>;
  artifacts: Record<string, Artifact>;
  platform: Record<string, unknown>;
  batchSize?: number;
  maxRetries?: number;
  schedule?: string;
  timezone?: string;
}
