import { Hono } from "hono";
import { send } from "twelve";

/** An order as the API accepts it. */
interface OrderRequest {
  email: string;
  items: { sku: string; quantity: number }[];
}

const app = new Hono();

app.get("/", (c) => c.json({ app: "shop", endpoints: ["POST /orders", "GET /health"] }));
app.get("/health", (c) => c.text("ok"));

// Taking an order is fast; the confirmation mail goes through the mailer's queue.
app.post("/orders", async (c) => {
  const order = parseOrder(await c.req.json().catch(() => undefined));
  if (typeof order === "string") return c.json({ error: order }, 400);
  const orderId = crypto.randomUUID();
  await send("mailer", { kind: "order-confirmation", orderId, email: order.email, items: order.items });
  return c.json({ orderId, status: "accepted" }, 202);
});

function parseOrder(body: unknown): OrderRequest | string {
  if (!body || typeof body !== "object") return "expected a JSON object { email, items }";
  const { email, items } = body as Partial<OrderRequest>;
  if (typeof email !== "string" || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return "email: expected an address";
  if (!Array.isArray(items) || items.length === 0) return "items: expected at least one { sku, quantity }";
  for (const item of items) {
    if (typeof item?.sku !== "string" || !Number.isInteger(item.quantity) || item.quantity < 1) {
      return "items: each needs a sku and a whole quantity of at least 1";
    }
  }
  return { email, items };
}

export default app;
