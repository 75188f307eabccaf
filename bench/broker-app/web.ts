import { send, sendBatch } from "twelve";

export default {
  async fetch(request: Request) {
    const { count } = (await request.json()) as { count: number };
    if (new URL(request.url).pathname === "/batch") {
      // One sendBatch() of them all.
      await sendBatch("sink", Array.from({ length: count }, (_, i) => ({ i, sentAt: Date.now() })));
    } else {
      // Concurrent sends, as a busy web process makes them.
      await Promise.all(Array.from({ length: count }, (_, i) => send("sink", { i, sentAt: Date.now() })));
    }
    return new Response("queued", { status: 202 });
  },
};
