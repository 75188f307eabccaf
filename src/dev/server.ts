import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { DevBrokerApi, DevEngine } from "../adapter.ts";

/** Where a running twelve dev says how to reach it, for `twelve run`. */
export interface DevServerInfo {
  pid: number;
  url: string;
  app: string;
  target: string;
  startedAt: string;
}

export function serverInfoFile(root: string): string {
  return path.join(root, ".twelve", "dev", "server.json");
}

export interface DevControl {
  /** `twelve run PROCESS [JSON]`: fires a clock, or sends one message to a worker. */
  run(process: string, body: unknown): Promise<{ status: number; body: unknown }>;
  status(): unknown;
}

/**
 * twelve dev's own server on 127.0.0.1: the broker for the processes (SQS's API for AWS
 * bundles), and the control API `twelve run` uses. It listens on a free port and writes that
 * port to .twelve/dev/server.json.
 */
export async function startDevServer(options: { root: string; app: string; target: string; engine: DevEngine; broker: DevBrokerApi; control: DevControl }) {
  // Imported here: an ES import of node:http at the top of the prebuilt CLI costs every
  // command ~15 ms (its module facade loads undici).
  const http = await import("node:http");
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const reply = (status: number, value: unknown, contentType = "application/json") => {
      res.writeHead(status, { "content-type": contentType });
      res.end(typeof value === "string" ? value : JSON.stringify(value));
    };
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      const run = /^\/_twelve\/run\/([^/]+)$/.exec(url.pathname);
      if (run && req.method === "POST") {
        const result = await options.control.run(decodeURIComponent(run[1] as string), body ? JSON.parse(body) : undefined);
        return reply(result.status, result.body);
      }
      if (url.pathname === "/_twelve/status") return reply(200, options.control.status());
      const handled = await options.engine.handle?.({ target: req.headers["x-amz-target"] as string | undefined, body }, options.broker);
      if (handled) return reply(handled.status, handled.body, handled.contentType);
      reply(404, { error: `twelve dev has nothing at ${req.method} ${url.pathname}` });
    } catch (error) {
      reply(500, { error: (error as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = serverInfoFile(options.root);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const info: DevServerInfo = { pid: process.pid, url, app: options.app, target: options.target, startedAt: new Date().toISOString() };
  fs.writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`);
  return {
    url,
    async close() {
      try {
        const current = JSON.parse(fs.readFileSync(file, "utf8")) as DevServerInfo;
        if (current.pid === process.pid) fs.rmSync(file, { force: true });
      } catch {
        // already gone
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
