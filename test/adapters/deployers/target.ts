import type { Target } from "../../../src/formation/types.ts";

/** What the deploy conformance suite needs of a platform: its stand-in, and how to watch and cut its writes. */
export interface DeployTarget {
  target: Target;
  /** How many resources the shop formation makes there. */
  resources: number;
  /** A way in to the platform's stand-in, with writes of its own to count and cut. */
  lane(): Promise<DeployLane>;
  stop(): Promise<void>;
}

export interface DeployLane {
  /** The deploying environment: credentials and endpoints of the stand-in. */
  env: NodeJS.ProcessEnv;
  /** Mutating calls the platform answered through this lane so far (twelve's and its tools'). */
  writes(): number;
  /** Refuses every mutating call from the n-th on (not the lock's), as if the deploy died there; undefined lifts it. */
  cutWrites(n: number | undefined): void;
  /** What must hold of the stage after a converged deploy, beyond an empty plan (nothing made twice). */
  converged(stage: string): Promise<void>;
  /** Names of what the platform still has of the stage. */
  leftovers(stage: string): Promise<string[]>;
  close(): Promise<void>;
}
