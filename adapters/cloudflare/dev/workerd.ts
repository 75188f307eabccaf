// workerd itself, driven as miniflare drives it but without miniflare (whose import alone takes
// about 0.3 s of every start): a config in capnp's text form, `workerd serve --experimental
// --control-fd=3`, and a small control Worker beside the process's own through which twelve dev
// calls its queue() and scheduled() handlers (Fetcher.queue and Fetcher.scheduled, as
// miniflare's queue broker and cron do). Logs come as workerd's structured JSON lines.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { packageDir } from "../../../src/peers.ts";

export interface WorkerdOptions {
  name: string;
  /** The bundle: its file, loaded as the Worker's one ES module. */
  mainModule: string;
  compatibilityDate: string;
  compatibilityFlags: readonly string[];
  /** Plain-text bindings (the process's environment). */
  text: Record<string, string>;
  /** Service bindings to HTTP servers on this machine: binding name → port on 127.0.0.1. */
  services: Record<string, number>;
  /** The port the Worker's fetch() serves (0: any free one); undefined: no port of its own. */
  port: number | undefined;
  /** One call per console call of the Worker (and per line workerd logs itself). */
  log(level: string, message: string): void;
}

export interface Workerd {
  /** The port the Worker serves, when it has one. */
  port: number | undefined;
  /** Fetcher.queue() on the Worker: what workerd reports of the batch. */
  queue(queue: string, messages: { id: string; timestamp: number; body: unknown; attempts: number }[]): Promise<unknown>;
  /** Fetcher.scheduled() on the Worker. */
  scheduled(cron: string, scheduledTime: number): Promise<unknown>;
  /** A GET to the Worker's fetch() with these headers, through the control Worker (no port needed); its JSON. */
  fetchJson(headers: Record<string, string>): Promise<unknown>;
  /** Resolves when workerd has exited, with how. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops workerd (and waits for it). */
  dispose(): Promise<void>;
}

/** workerd's binary, as the installed miniflare's own dependency has it (the version miniflare runs). */
export function workerdBinary(): string {
  const miniflare = packageDir("miniflare");
  if (!miniflare) throw new Error("miniflare is not installed: twelve dev --target cloudflare runs its workerd (npm install --save-dev miniflare)");
  return (createRequire(path.join(miniflare, "package.json"))("workerd") as { default: string }).default;
}

/**
 * The control Worker: one JSON call per request. A message's timestamp travels as a number and
 * is a Date again here, as Fetcher.queue() takes it.
 */
const CONTROL_WORKER = `export default {
  async fetch(request, env) {
    const call = await request.json();
    if (call.op === "queue") {
      const messages = call.messages.map((m) => ({ id: m.id, timestamp: new Date(m.timestamp), body: m.body, attempts: m.attempts }));
      return Response.json(await env.USER.queue(call.queue, messages));
    }
    if (call.op === "scheduled") return Response.json(await env.USER.scheduled({ cron: call.cron, scheduledTime: new Date(call.scheduledTime) }));
    if (call.op === "fetch") return env.USER.fetch("http://twelve-dev/", { headers: call.headers });
    return new Response("unknown call " + call.op, { status: 400 });
  },
};`;

/** A capnp text literal: printable ASCII as it is, every other byte (UTF-8 included) as \\xHH. */
function capnpString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, "utf8")) {
    out += byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `${out}"`;
}

function configText(options: WorkerdOptions, configDir: string): string {
  const list = (items: string[]) => `[${items.join(", ")}]`;
  const bindings = [
    ...Object.entries(options.text).map(([name, value]) => `(name = ${capnpString(name)}, text = ${capnpString(value)})`),
    ...Object.keys(options.services).map((name, i) => `(name = ${capnpString(name)}, service = "service-${i}")`),
  ];
  const services = Object.values(options.services).map((port, i) => `(name = "service-${i}", external = (address = "127.0.0.1:${port}", http = ()))`);
  const sockets = [`(name = "control", address = "127.0.0.1:0", http = (), service = "control")`];
  if (options.port !== undefined) sockets.push(`(name = "http", address = "127.0.0.1:${options.port}", http = (), service = "user")`);
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "user", worker = (
      modules = [(name = ${capnpString(path.basename(options.mainModule))}, esModule = embed ${capnpString(path.relative(configDir, options.mainModule))})],
      compatibilityDate = ${capnpString(options.compatibilityDate)},
      compatibilityFlags = ${list(options.compatibilityFlags.map(capnpString))},
      bindings = ${list(bindings)},
    )),
    (name = "control", worker = (
      modules = [(name = "control.mjs", esModule = ${capnpString(CONTROL_WORKER)})],
      compatibilityDate = "2025-09-01",
      compatibilityFlags = ["service_binding_extra_handlers"],
      bindings = [(name = "USER", service = "user")],
    )),
    # The Worker's own fetch()es (the name workerd sends them to by default), as miniflare allows them.
    (name = "internet", network = (allow = ["public", "private", "240.0.0.0/4"], tlsOptions = (trustBrowserCas = true))),
    ${services.join(",\n    ")}
  ],
  sockets = ${list(sockets)},
  logging = (structuredLogging = true),
);
`;
}

/**
 * Starts workerd for one Worker and resolves once it listens. It fails with what workerd said
 * (a module that throws as it loads, a port taken) when workerd ends first. workerd ends by
 * itself once its pipes to this process close, so it goes even when this process is killed
 * outright (test/e2e/dev-workerd.test.ts); on Linux it is also started through setpriv with a
 * parent-death signal, and dispose() and this process's exit stop it.
 */
export async function startWorkerd(options: WorkerdOptions): Promise<Workerd> {
  const binary = workerdBinary();
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-workerd-"));
  const configFile = path.join(configDir, "config.capnp");
  fs.writeFileSync(configFile, configText(options, configDir));
  const args = ["serve", "--experimental", "--control-fd=3", configFile];
  const setpriv = process.platform === "linux" ? ["/usr/bin/setpriv", "/bin/setpriv"].find((file) => fs.existsSync(file)) : undefined;
  const child = setpriv
    ? spawn(setpriv, ["--pdeathsig", "KILL", "--", binary, ...args], { stdio: ["ignore", "pipe", "pipe", "pipe"] })
    : spawn(binary, args, { stdio: ["ignore", "pipe", "pipe", "pipe"] });
  const kill = () => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL");
  process.on("exit", kill);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const spawned = new Promise<never>((_, reject) => child.once("error", (error) => reject(new Error(`could not start workerd (${binary}): ${error.message}`))));

  // What workerd said before it listened: the reason, should it end instead.
  let early: string[] | undefined = [];
  const onLine = (line: string) => {
    if (!line) return;
    let entry: { level?: unknown; message?: unknown } | undefined;
    try {
      entry = JSON.parse(line) as { level?: unknown; message?: unknown };
    } catch {
      entry = undefined;
    }
    const message = typeof entry?.message === "string" ? entry.message : line;
    early?.push(message);
    options.log(typeof entry?.level === "string" ? entry.level : "error", message);
  };
  readline.createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", onLine);
  readline.createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", onLine);

  const ports: Record<string, number> = {};
  const wanted = options.port === undefined ? ["control"] : ["control", "http"];
  const endedFirst = exited.then(({ code, signal }) => {
    throw new Error(`workerd ended (${signal ?? `exit ${code}`}) before it served ${options.name}:\n${(early ?? []).join("\n")}`);
  });
  // Either may settle after the race is decided: neither is then an unhandled rejection.
  endedFirst.catch(() => undefined);
  spawned.catch(() => undefined);
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        readline.createInterface({ input: child.stdio[3] as NodeJS.ReadableStream }).on("line", (line) => {
          const event = JSON.parse(line) as { event?: string; socket?: string; port?: number };
          if (event.event === "listen" && event.socket && event.port) ports[event.socket] = event.port;
          if (wanted.every((socket) => ports[socket] !== undefined)) resolve();
        });
      }),
      spawned,
      endedFirst,
    ]);
  } finally {
    // workerd has read the config and the module it embeds (or has ended): nothing to leave behind.
    fs.rmSync(configDir, { recursive: true, force: true });
  }
  early = undefined;

  const agent = new http.Agent({ keepAlive: true });
  const control = (call: unknown): Promise<{ status: number; text: string }> => {
    const body = JSON.stringify(call);
    return new Promise((resolve, reject) => {
      const request = http.request(
        { host: "127.0.0.1", port: ports.control, method: "POST", path: "/", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
        (response) => {
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => (text += chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  };
  const json = async (call: unknown) => {
    const { status, text } = await control(call);
    if (status !== 200) throw new Error(`workerd answered ${status}: ${text}`);
    return JSON.parse(text) as unknown;
  };

  return {
    port: ports.http,
    queue: (queue, messages) => json({ op: "queue", queue, messages }),
    scheduled: (cron, scheduledTime) => json({ op: "scheduled", cron, scheduledTime }),
    fetchJson: (headers) => json({ op: "fetch", headers }),
    exited,
    dispose: async () => {
      agent.destroy();
      kill();
      await exited;
      process.off("exit", kill);
    },
  };
}
