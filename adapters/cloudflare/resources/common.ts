import type { ScriptView } from "../api-types.ts";
import type { CloudflareApi } from "../client.ts";

// What every kind of Cloudflare resource shares: the API's views of scripts and queues, the
// tags twelve keeps on a script, and the context of a deploy's changes.

export const CODE_TAG = "twelve-hash:";
export const SECRETS_TAG = "twelve-secrets:";
/** A clock Worker's copy of the stage's run token (resources/run-token.ts). */
export const RUN_TOKEN_TAG = "twelve-run:";
export const appTag = (app: string) => `twelve-app:${app}`;
export const stageTag = (stage: string) => `twelve-stage:${stage}`;
export const processTag = (process: string) => `twelve-process:${process}`;

export type { ConsumerView, QueueView, ScriptView } from "../api-types.ts";

/** One deploy's changes to an app's stage on Cloudflare. */
export interface CloudflareContext {
  api: CloudflareApi;
  app: string;
  stage: string;
  /** Secrets' values by name, from the deploying environment. */
  secrets: Record<string, string>;
  /** The environment wrangler runs in: the deploying one, with the token and account set. */
  wranglerEnv: NodeJS.ProcessEnv;
  /** wrangler's own output, line by line (shown with --verbose). */
  debug(line: string): void;
  /** The account's Worker scripts, as read before the deploy (under its lock): whose each is. */
  scripts: ScriptView[];
  /** Queue ids by name: read before the deploy, and those of queues it creates. */
  queueIds: Record<string, string>;
  /** The Workers this deploy uploaded (wrangler sets their consumers with them). */
  uploaded: Set<string>;
  /** Worker consumers' ids by queue name, as they are now (read once, after the uploads). */
  consumerIds(): Promise<Record<string, string>>;
}

/** Deleting what is already gone is done. */
export async function ignoreNotFound(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
  }
}
