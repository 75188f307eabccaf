import type { DeployLock } from "../../src/deploy/lock.ts";
import type { CloudflareApi } from "./client.ts";
import { findQueue, lockQueueName } from "./resources/queue.ts";

/**
 * One deploy (or destroy) of a stage at a time. The lock is a queue, `<app>-<stage>--lock`
 * (no process can have that name), because creating a queue is the one create-if-absent
 * Cloudflare's API makes atomic: a second deploy gets 409 and stops before any change. A queue
 * has no tags, so it tells only when it was taken.
 */
export function cloudflareDeployLock(api: CloudflareApi, app: string, stage: string): DeployLock {
  const name = lockQueueName(app, stage);
  let id: string | undefined;
  return {
    removeByHand: `delete the queue ${name}: npx wrangler queues delete ${name}`,
    async create() {
      try {
        id = (await api.send<{ queue_id: string }>("POST", "/queues", { queue_name: name })).queue_id;
        return undefined;
      } catch (error) {
        if ((error as { status?: number }).status !== 409) throw error;
      }
      const held = await findQueue(api, name);
      id = held?.queue_id;
      // Gone since the 409: nothing holds it any more. No creation time: held from now on.
      if (!held) return { since: 0 };
      return { since: held.created_on ? Date.parse(held.created_on) : Date.now() };
    },
    async remove() {
      if (id) await api.send("DELETE", `/queues/${id}`);
      id = undefined;
    },
  };
}
