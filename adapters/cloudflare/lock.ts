import { failure } from "../../src/errors.ts";
import type { CloudflareApi } from "./api.ts";
import { findQueue, lockQueueName } from "./state.ts";

/** A lock older than this is from a deploy that died: taken over, and said so. */
const STALE_MS = 30 * 60 * 1000;

/**
 * One deploy (or destroy) of a stage at a time. The lock is a queue, `<app>-<stage>--lock`
 * (no process can have that name), because creating a queue is the one create-if-absent
 * Cloudflare's API makes atomic: a second deploy gets 409 and stops before any change.
 */
export async function acquireDeployLock(api: CloudflareApi, app: string, stage: string, onNote: (line: string) => void): Promise<() => Promise<void>> {
  const name = lockQueueName(app, stage);
  const create = () => api.send<{ queue_id: string }>("POST", "/queues", { queue_name: name });
  let created: { queue_id: string };
  try {
    created = await create();
  } catch (error) {
    if ((error as { status?: number }).status !== 409) throw error;
    const held = await findQueue(api, name);
    const since = held?.created_on ? Date.parse(held.created_on) : Date.now();
    if (held && Date.now() - since < STALE_MS) {
      throw failure(
        `another deploy of ${app} (${stage}) is running (it took the lock at ${new Date(since).toISOString()})`,
        `Wait for it to finish. If it died, its lock expires after 30 minutes, or delete the queue ${name}: npx wrangler queues delete ${name}`,
      );
    }
    onNote(`taking over the lock of a deploy that started at ${new Date(since).toISOString()} and did not finish`);
    if (held) await api.send("DELETE", `/queues/${held.queue_id}`).catch(() => {});
    created = await create();
  }
  return async () => {
    await api.send("DELETE", `/queues/${created.queue_id}`).catch(() => {});
  };
}
