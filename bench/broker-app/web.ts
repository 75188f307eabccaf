import { send } from "twelve";

export default {
  async fetch(request: Request) {
    const { count } = (await request.json()) as { count: number };
    // Concurrent sends, as a busy web process makes them.
    await Promise.all(Array.from({ length: count }, (_, i) => send("sink", { i, sentAt: Date.now() })));
    return new Response("queued", { status: 202 });
  },
};
