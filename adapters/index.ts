import type { Target } from "../src/formation/types.ts";
import { awsAdapter } from "./aws/build.ts";
import { cloudflareAdapter } from "./cloudflare/build.ts";
import type { Adapter } from "./types.ts";

export const adapters: Record<Target, Adapter> = {
  aws: awsAdapter,
  cloudflare: cloudflareAdapter,
};

export type { Adapter } from "./types.ts";
