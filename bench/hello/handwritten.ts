// What a user would write by hand for the same Hono app on Lambda: hono's own adapter.
import { Hono } from "hono";
import { handle } from "hono/aws-lambda";

const app = new Hono();
app.get("/", (c) => c.text("Hello, world!"));

export const handler = handle(app);
