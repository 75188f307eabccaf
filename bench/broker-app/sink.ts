import type { MessageBatch } from "twelve";

// A no-op worker: it only says, per batch, how long each message waited from send() to now.
export default {
  async queue(batch: MessageBatch<{ i: number; sentAt: number }>, env: Record<string, unknown>) {
    const now = Date.now();
    const latencies = batch.messages.map((m) => now - m.body.sentAt);
    await fetch(String(env.REPORT_URL), { method: "POST", body: JSON.stringify({ latencies, at: now }) });
  },
};
