import { missingHandlerIn } from "../runtime/module.ts";
import type { FromHost, ToHost } from "./host-parent.ts";

// The child side of host-parent.ts, for the host scripts of each engine.

const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
let nextRequest = 0;
let invoke: ((payload: unknown) => Promise<unknown>) | undefined;
let load: (() => number | Promise<number>) | undefined;
const send = (message: FromHost) => process.connected && process.send?.(message);

// Listening from the start, not from serveHost(): a server may take requests (and make
// requestParent() calls) before its host is ready, and their replies must not be lost.
process.on("message", async (message: ToHost) => {
  if (message.kind === "reply") {
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.ok) waiter?.resolve(message.value);
    else waiter?.reject(new Error(message.error));
    return;
  }
  if (message.kind === "load") return send({ kind: "load", id: message.id, inFlight: load ? await Promise.resolve(load()).catch(() => null) : null });
  if (message.kind !== "invoke") return;
  if (!invoke) return send({ kind: "result", id: message.id, ok: false, error: "this process takes no invocations" });
  try {
    send({ kind: "result", id: message.id, ok: true, value: await invoke(message.payload) });
  } catch (error) {
    console.error(error);
    send({ kind: "result", id: message.id, ok: false, error: String((error as Error)?.stack ?? error) });
  }
});

// Listening from the start too: twelve dev may go away (killed, or stopped while this host
// was still starting) before the host serves, and a host that missed it would live on,
// holding its port and its workerd.
const cleanups: (() => Promise<void> | void)[] = [];
let parentGone = false;
process.on("disconnect", () => {
  parentGone = true;
  void Promise.allSettled(cleanups.map((cleanup) => cleanup())).finally(() => process.exit(0));
});

/** Runs `cleanup` when twelve dev goes away (at once if it already has), before this host exits. */
export function onParentGone(cleanup: () => Promise<void> | void): void {
  if (parentGone) void Promise.resolve(cleanup()).finally(() => process.exit(0));
  else cleanups.push(cleanup);
}

/** Serves twelve dev's calls until the IPC channel closes, then runs `shutdown` and exits. */
export function serveHost(handlers: { invoke?(payload: unknown): Promise<unknown>; shutdown?(): Promise<void>; load?(): number | Promise<number> }): void {
  invoke = handlers.invoke;
  load = handlers.load;
  if (handlers.shutdown) onParentGone(handlers.shutdown);
}

/**
 * While the host loads the process (up to hostReady()): a module without the handler of its
 * type (twelve's wrapper throws, in Node or inside workerd, whose error the host passes on
 * as text) is told to twelve dev as such, which then does not restart it: it would fail the
 * same way until the code changes. The host stays until twelve dev lets it go (disconnects),
 * so the message is not overtaken by the news of its exit. Any other error ends the host as
 * Node would, and twelve dev restarts it.
 */
function failedToLoad(error: unknown): void {
  const text = error instanceof Error ? `${error.message}\n${error.stack ?? ""}` : String(error);
  const reason = missingHandlerIn(text);
  if (reason === undefined || !process.connected) {
    console.error(error);
    process.exit(1);
  }
  send({ kind: "unusable", reason });
  // twelve dev disconnects at once; should it not, the host does not linger.
  setTimeout(() => process.exit(1), 5000).unref();
}
process.on("uncaughtException", failedToLoad);

export function hostReady(): void {
  // Loaded: from here an uncaught error ends the host as Node's default does.
  process.off("uncaughtException", failedToLoad);
  send({ kind: "ready" });
}

/** Asks twelve dev for something (a send() from a Worker) and waits for its answer. */
export function requestParent(payload: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const id = ++nextRequest;
    waiting.set(id, { resolve, reject });
    send({ kind: "request", id, payload });
  });
}
