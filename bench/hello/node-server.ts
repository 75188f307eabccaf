// The baseline for twelve dev's HTTP: the same Hono app served directly by @hono/node-server.
import { serve } from "@hono/node-server";
import app from "./src/web.ts";

serve({ fetch: app.fetch, port: Number(process.argv[2]), hostname: "127.0.0.1" }, () => console.log("listening"));
