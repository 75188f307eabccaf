import { createHash, randomBytes } from "node:crypto";
import { RUN_TOKEN_SECRET } from "../runtime/clock.ts";
import type { WorkerResource } from "./worker.ts";

// The stage's run token: what a clock Worker's own routes ask for (runtime/clock.ts), so that
// only its deployers can run it now (`twelve run --stage`) and read its last run (`twelve ps`).
// The Worker holds it as the secret TWELVE_RUN_TOKEN. Cloudflare never gives a secret's value
// back, and twelve keeps no local state, so each clock script also keeps it in its tags (as the
// stage's other facts are kept): a laptop and CI read the same one. Whoever can read the
// account's Worker scripts can therefore run its clocks; a deploy makes one when the stage has
// none, and removing the tag (or the secret) makes the next deploy set a new one.

/** 32 random bytes, URL-safe: a tag allows no "," nor "&". */
export function newRunToken(): string {
  return randomBytes(32).toString("base64url");
}

/** What a plan compares: a short digest, never the token. */
export function runTokenDigest(token: string | null): string | null {
  return token ? createHash("sha256").update(`twelve-run-token:${token}`).digest("hex").slice(0, 16) : null;
}

/** The token a Worker of the stage already keeps, if any (every clock of the stage keeps the same one). */
export function stageRunToken(resources: readonly { kind: string }[]): string | undefined {
  for (const r of resources) if (r.kind === "worker" && (r as WorkerResource).runToken) return (r as WorkerResource).runToken ?? undefined;
  return undefined;
}

/** A Worker that holds the run token: a clock's (desiredResources() names the secret for it). */
export function holdsRunToken(worker: WorkerResource): boolean {
  return worker.secretNames.includes(RUN_TOKEN_SECRET);
}

/** The desired resources with the stage's token on every clock Worker. */
export function withRunToken<R extends { kind: string }>(resources: readonly R[], token: string): R[] {
  return resources.map((r) => (r.kind === "worker" && holdsRunToken(r as unknown as WorkerResource) ? { ...r, runToken: token, runTokenDigest: runTokenDigest(token) } : r));
}
