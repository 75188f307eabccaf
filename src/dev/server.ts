import fs from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { DevBrokerApi, DevEngine } from "../adapter.ts";
import { failure, usageError } from "../errors.ts";
import type { Process } from "../formation/types.ts";
import type { devDeadLetters } from "./dead-letters.ts";
import { Dashboard, type DevStatus } from "./dashboard.ts";
import type { DevLog } from "./output.ts";

/** Where a running twelve dev says how to reach it, for `twelve run`. */
export interface DevServerInfo {
  pid: number;
  url: string;
  app: string;
  target: string;
  startedAt: string;
  /**
   * Made fresh on every start: what changes state (twelve run, dlq --redrive/--purge) needs it
   * in x-twelve-token, so another local page or program that only knows the port cannot. The
   * file is readable by its owner only.
   */
  token: string;
}

export function serverInfoFile(root: string): string {
  return path.join(root, ".twelve", "dev", "server.json");
}

/** The twelve dev running for the app in `root`; a failure (exit 1) saying how to start one when none is. */
export function readServerInfo(root: string): DevServerInfo {
  const file = serverInfoFile(root);
  try {
    const info = JSON.parse(fs.readFileSync(file, "utf8")) as DevServerInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    throw failure(`no twelve dev is running for the app in ${root}`, "Start it with npx twelve dev (in another terminal), then run this again.");
  }
}

/**
 * One call to a running twelve dev's control API (what `twelve run` and `twelve dlq` use), with
 * its token. A refusal is thrown as twelve dev worded it, prefixed by `what`: a usage error for
 * 400 and 404, a failure otherwise.
 */
export async function callDevServer<T>(info: DevServerInfo, method: string, route: string, body: unknown, what: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${info.url}${route}`, { method, headers: { "x-twelve-token": info.token }, ...(method === "GET" ? {} : { body: body === undefined ? "" : JSON.stringify(body) }) });
  } catch {
    throw failure(`twelve dev for ${info.app} is not answering at ${info.url} (pid ${info.pid})`, "Start it again with npx twelve dev.");
  }
  const result = (await response.json()) as T & { error?: unknown };
  if (!response.ok) throw (response.status === 400 || response.status === 404 ? usageError : failure)(`${what}${String(result.error)}`);
  return result;
}

export interface DevControl {
  /** `twelve run PROCESS [JSON]`: fires a clock, or sends one message to a worker. */
  run(process: string, body: unknown): Promise<{ status: number; body: unknown }>;
  status(): Promise<DevStatus>;
  /** The formation's process of that name, as running now. */
  process(name: string): Process | undefined;
  deadLetters: ReturnType<typeof devDeadLetters>;
}

/**
 * twelve dev's own server on 127.0.0.1: the broker for the processes (SQS's API for AWS
 * bundles), and the control API `twelve run` uses. It listens on a free port and writes that
 * port to .twelve/dev/server.json.
 */
export async function startDevServer(options: {
  root: string;
  app: string;
  target: string;
  engine: DevEngine;
  broker: DevBrokerApi;
  control: DevControl;
  /** What the dashboard charts (each worker's queue) and shows (the log). */
  dashboard: { queues: () => { name: string; depth: number; delivered: number }[]; log: DevLog };
}) {
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
      // DNS rebinding: a page of evil.example resolved to 127.0.0.1 still sends its own Host.
      if (!LOCAL_HOST.test(req.headers.host ?? "")) return reply(403, { error: `twelve dev answers only to 127.0.0.1 and localhost, not ${req.headers.host}` });
      if (req.method === "GET" && (url.pathname === "/_twelve" || url.pathname === "/_twelve/")) {
        // The token is in the page: no other site may frame it (a click on it would be ours).
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'", "referrer-policy": "no-referrer" });
        return res.end(await dashboard.page());
      }
      if (req.method === "GET" && url.pathname === "/_twelve/events") return void (await dashboard.subscribe(res));
      // A page of another site cannot set x-twelve-token; a browser's own word on where a request comes from is a second check.
      const site = req.headers["sec-fetch-site"];
      if (req.method !== "GET" && site !== undefined && site !== "same-origin" && site !== "none") return reply(403, { error: `twelve dev takes state changes only from its own dashboard or the CLI, not from a ${site} page` });
      if (url.pathname.startsWith("/_twelve/")) {
        const control = await controlRoute(options.control, req.method ?? "GET", url, body, () => tokenMatches(req.headers["x-twelve-token"], token));
        if (control) return reply(control.status, control.body);
      }
      const handled = await options.engine.handle?.({ target: req.headers["x-amz-target"] as string | undefined, body }, options.broker);
      if (handled) return reply(handled.status, handled.body, handled.contentType);
      reply(404, { error: `twelve dev has nothing at ${req.method} ${url.pathname}` });
    } catch (error) {
      reply(500, { error: (error as Error).message });
    }
  });
  const token = randomBytes(24).toString("base64url");
  const dashboard = new Dashboard({ status: () => options.control.status(), ...options.dashboard, token });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = serverInfoFile(options.root);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const info: DevServerInfo = { pid: process.pid, url, app: options.app, target: options.target, startedAt: new Date().toISOString(), token };
  fs.writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return {
    url,
    token,
    async close() {
      try {
        const current = JSON.parse(fs.readFileSync(file, "utf8")) as DevServerInfo;
        if (current.pid === process.pid) fs.rmSync(file, { force: true });
      } catch {
        // already gone
      }
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const LOCAL_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/;

function tokenMatches(given: string | string[] | undefined, token: string): boolean {
  if (typeof given !== "string" || given.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}

type Reply = { status: number; body: unknown };

/** twelve dev's control API: what `twelve run` and `twelve dlq` call. State changes need the token. */
async function controlRoute(control: DevControl, method: string, url: URL, body: string, authorized: () => boolean): Promise<Reply | undefined> {
  const parts = url.pathname.split("/").slice(2).map(decodeURIComponent);
  const changes = method !== "GET";
  if (changes && !authorized()) return { status: 401, body: { error: "this needs the token of this twelve dev (x-twelve-token, from .twelve/dev/server.json): use twelve run or twelve dlq" } };
  const json = () => (body ? (JSON.parse(body) as unknown) : undefined);
  const [route, name, action] = parts;
  if (route === "status" && !changes) return { status: 200, body: await control.status() };
  if (route === "run" && name && method === "POST") return control.run(name, json());
  if (route !== "dlq") return undefined;
  const letters = control.deadLetters;
  if (name === undefined) return changes ? undefined : { status: 200, body: await letters.summary() };
  const process = control.process(name);
  if (!process || process.type === "web") {
    return { status: 404, body: { error: `no worker or clock named "${name}"${process ? ` (${name} is a web process: it has no dead letters)` : ""}` } };
  }
  if (!action && !changes) {
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const limit = Math.min(Number(url.searchParams.get("limit") ?? 500), 5000);
    return { status: 200, body: letters.page(name, Number.isInteger(offset) && offset >= 0 ? offset : 0, Number.isInteger(limit) && limit > 0 ? limit : 500) };
  }
  const ids = (json() as { ids?: unknown } | undefined)?.ids;
  if (ids !== undefined && ids !== null && !(Array.isArray(ids) && ids.every((id) => typeof id === "string"))) return { status: 400, body: { error: "ids: expected a list of dead-letter ids" } };
  const chosen = (ids ?? undefined) as string[] | undefined;
  if (action === "redrive" && method === "POST") {
    if (process.type !== "worker") return { status: 400, body: { error: `${name} is a clock: a failed run is not sent back; run it again with twelve run ${name}` } };
    return { status: 200, body: await letters.redrive(process, chosen, () => {}) };
  }
  if (action === "purge" && method === "POST") return { status: 200, body: await letters.purge(process, chosen, () => {}) };
  return undefined;
}
