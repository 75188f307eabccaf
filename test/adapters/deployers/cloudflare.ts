import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { startCloudflareApi } from "../../support/cloudflare-api.ts";
import { cloudflareTestEnv } from "../../support/wrangler.ts";
import type { DeployLane, DeployTarget } from "./target.ts";

/** Cloudflare for the deploy conformance suite: API stand-ins (a lane each), which the real wrangler deploys to. */
export async function cloudflareTarget(): Promise<DeployTarget> {
  return {
    target: "cloudflare",
    // 3 Workers, the queue, its dead-letter queue and its consumer, the dead-letter queue's HTTP pull consumer.
    resources: 7,
    lane: cloudflareLane,
    stop: async () => {},
  };
}

async function cloudflareLane(): Promise<DeployLane> {
  const api = await startCloudflareApi();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-cf-conformance-"));
  return {
    env: cloudflareTestEnv(api, home),
    writes: () => api.writes,
    // The lock's own calls (a queue) are not steps of the deploy.
    cutWrites: (n) => api.cutWrites(n, /--lock/),
    async converged(stage) {
      const queue = api.queueByName(`shop-${stage}-mailer`);
      expect(queue?.consumers, "one consumer").toHaveLength(1);
      const scripts = [...api.state.scripts.keys()].filter((n) => n.startsWith(`shop-${stage}-`)).sort();
      expect(scripts).toEqual([`shop-${stage}-mailer`, `shop-${stage}-nightly`, `shop-${stage}-web`]);
    },
    async leftovers(stage) {
      const prefix = `shop-${stage}-`;
      return [...[...api.state.scripts.keys()], ...[...api.state.queues.values()].map((q) => q.queue_name)].filter((n) => n.startsWith(prefix));
    },
    async close() {
      await api.stop();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
