import type { DeployLock } from "../../src/deploy/lock.ts";
import type { CloudflareApi } from "./client.ts";
import { takenError } from "./resources/ownership.ts";
import { createQueue, findQueue, lockQueueName } from "./resources/queue.ts";

/**
 * One deploy (or destroy) of a stage at a time. The lock is a queue, `<app>-<stage>--lock`
 * (no process can have that name), because creating a queue is the one create-if-absent
 * Cloudflare's API makes atomic: a second deploy is refused and stops before any change. A
 * queue has no tags, so it tells only when it was taken. With one-word stages, no other
 * stage's lock has its name (`<app>-<stage>` is one stage's only).
 */
export function cloudflareDeployLock(api: CloudflareApi, app: string, stage: string): DeployLock {
  const name = lockQueueName(app, stage);
  let id: string | undefined;
  return {
    removeByHand: `delete the queue ${name}: npx wrangler queues delete ${name}`,
    async create() {
      const lock = await createQueue(api, name);
      id = lock.id;
      if (!lock.existed) return undefined;
      // A lock queue is used by no Worker: one that is used is someone's working queue, never
      // taken for a lock, nor removed as a stale one.
      const found = await findQueue(api, name);
      const user = [...(found?.consumers ?? []).map((c) => ("script_name" in c ? c.script_name : "")), ...(found?.producers ?? []).map((p) => ("script" in p ? p.script : ""))].find(Boolean);
      if (user) {
        id = undefined;
        throw takenError({ app, stage }, "queue", `${name} (this stage's deploy lock)`, `used by the Worker ${user}`);
      }
      // No creation time: held from now on.
      return { since: lock.createdOn ? Date.parse(lock.createdOn) : Date.now() };
    },
    async remove() {
      if (id) await api.send("DELETE", `/queues/${id}`);
      id = undefined;
    },
  };
}
