import type { AdapterRegistry } from "../src/adapter.ts";
import { awsAdapter } from "./aws/index.ts";
import { cloudflareAdapter } from "./cloudflare/index.ts";

/** Every platform twelve deploys to, by target; handed to the library by its entry points. */
export const adapters: AdapterRegistry = {
  aws: awsAdapter,
  cloudflare: cloudflareAdapter,
};
