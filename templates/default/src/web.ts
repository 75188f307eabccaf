import { Hono } from "hono";
import { send } from "twelve";

const app = new Hono();

app.get("/", (c) => c.text("Hello from twelve!"));

// Work that can wait goes to the worker's queue; the request answers at once.
app.post("/jobs", async (c) => {
  const job = await c.req.json().catch(() => null);
  if (!job || typeof job !== "object") return c.json({ error: "send a JSON object" }, 400);
  await send("jobs", job);
  return c.json({ queued: true }, 202);
});

export default app;
