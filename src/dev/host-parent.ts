import { fork, type ChildProcess } from "node:child_process";
import { withCompileCache } from "../compile-cache.ts";
import { NotDelivered } from "./broker.ts";
import { Unusable } from "./slot.ts";

/** Messages between twelve dev and a process's host child. */
export type ToHost =
  | { kind: "invoke"; id: number; payload: unknown }
  | { kind: "reply"; id: number; ok: boolean; value?: unknown; error?: string }
  | { kind: "load"; id: number };
export type FromHost =
  | { kind: "ready" }
  | { kind: "unusable"; reason: string }
  | { kind: "result"; id: number; ok: boolean; value?: unknown; error?: string }
  | { kind: "request"; id: number; payload: unknown }
  | { kind: "load"; id: number; inFlight: number | null };

export interface HostChild {
  /** One call into the process; killed (and rejected) past `timeoutSeconds`, as a platform would. */
  invoke(payload: unknown, timeoutSeconds: number): Promise<unknown>;
  /** Requests the child is serving now (web hosts count theirs); null when it does not count them. */
  load(): Promise<number | null>;
  /** Resolves with a reason when the child ends by itself; stop() leaves it pending. */
  ended: Promise<string>;
  /** Asks it to finish what it serves and exit; kills it after `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a host child (one per process of the formation, on either engine) and speaks its
 * IPC protocol. A child whose parent dies sees its IPC channel close and shuts down, so even a
 * SIGKILLed twelve dev leaves no process (nor a workerd) holding a port.
 */
export async function forkHost(options: {
  script: string;
  env: NodeJS.ProcessEnv;
  name: string;
  log(line: string): void;
  /** Requests the child makes of twelve dev (a send() from a Worker). */
  onRequest?(payload: unknown): Promise<unknown>;
}): Promise<HostChild> {
  // In a process group of its own (with the workerd it may start): the terminal's Ctrl-C
  // signals its whole foreground group, and a child killed by it would fail the work in
  // flight (charged an attempt) that twelve dev's own shutdown lets finish.
  const child = fork(options.script, [], { execArgv: ["--enable-source-maps"], stdio: ["ignore", "pipe", "pipe", "ipc"], env: withCompileCache(options.env), detached: OWN_GROUP });
  const kill = () => killGroup(child);
  running.add(child);
  child.once("exit", () => {
    running.delete(child);
    // Whatever of its group outlived it (a workerd it did not dispose of) holds a port: it goes too.
    if (OWN_GROUP && child.pid !== undefined) signalGroup(child.pid);
  });
  child.stdout?.on("data", splitLines(options.log));
  child.stderr?.on("data", splitLines(options.log));
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  const loads = new Map<number, (inFlight: number | null) => void>();
  let stopping = false;
  /** Set the moment the child is known to be going: nothing more is handed to it. */
  let going = false;
  /** Set when twelve killed it for one call's timeout: its other calls did nothing wrong. */
  let killedFor: string | undefined;
  /** The timeout that got it killed, so the crash says so rather than "killed by SIGKILL". */
  let timedOutAfter: number | undefined;
  const ended = new Promise<string>((resolve) => {
    child.on("exit", (code, signal) => {
      going = true;
      const reason = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      for (const p of pending.values()) {
        // On a platform each call runs in its own instance: one call's timeout fails only that one.
        p.reject(killedFor ? new NotDelivered(`${options.name} was restarted because ${killedFor}`) : new Error(`${options.name} ${reason}`));
      }
      pending.clear();
      if (!stopping) resolve(timedOutAfter !== undefined ? `ran past its ${timedOutAfter} s timeout and was killed` : reason);
    });
  });
  const started = new Promise<void>((resolve, reject) => {
    void ended.then((reason) => reject(new Error(`it ${reason} while starting`)));
    child.on("message", (message: FromHost) => {
      if (message.kind === "ready") resolve();
      // Loaded without its handler: not a crash to restart (slot.ts); the child waits to be let go.
      if (message.kind === "unusable") (reject(new Unusable(message.reason)), child.disconnect());
      if (message.kind === "result") {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.ok) waiter?.resolve(message.value);
        else waiter?.reject(new Error(message.error));
      }
      if (message.kind === "load") loads.get(message.id)?.(message.inFlight);
      if (message.kind === "request") {
        const reply = (m: ToHost) => child.connected && child.send(m);
        Promise.resolve(options.onRequest?.(message.payload)).then(
          (value) => reply({ kind: "reply", id: message.id, ok: true, value }),
          (error: Error) => reply({ kind: "reply", id: message.id, ok: false, error: error.message }),
        );
      }
    });
  });
  await started;

  return {
    ended,
    load: () =>
      new Promise((resolve) => {
        if (going || !child.connected) return resolve(null);
        const id = ++nextId;
        // A child busy in a loop does not answer: it counts as not known rather than stalling the caller.
        const timer = setTimeout(() => (loads.delete(id), resolve(null)), 500);
        loads.set(id, (inFlight) => (clearTimeout(timer), loads.delete(id), resolve(inFlight)));
        child.send({ kind: "load", id } satisfies ToHost);
      }),
    invoke: (payload, timeoutSeconds) =>
      new Promise((resolve, reject) => {
        if (going || !child.connected) return reject(new NotDelivered(`${options.name} is not running`));
        const id = ++nextId;
        const timer = setTimeout(() => {
          pending.delete(id);
          going = true;
          killedFor ??= `another call timed out after ${timeoutSeconds} s`;
          timedOutAfter ??= timeoutSeconds;
          reject(new Error(`${options.name} timed out after ${timeoutSeconds} s; restarting it`));
          kill();
        }, timeoutSeconds * 1000);
        pending.set(id, {
          resolve: (v) => (clearTimeout(timer), resolve(v)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        child.send({ kind: "invoke", id, payload } satisfies ToHost);
      }),
    async stop(graceMs = 5000) {
      stopping = true;
      going = true;
      killedFor ??= "twelve dev stopped it (a reload, or shutting down)";
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      // Closing the channel asks the child to finish what it serves and exit.
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => kill(), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

const OWN_GROUP = process.platform !== "win32";

/**
 * The host children alive. In groups of their own, they no longer die with twelve dev's: when
 * twelve dev exits, they go too, even one busy in a loop that would never see its IPC close.
 */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) killGroup(child);
});

/** SIGKILL for the child and what it started (its group), if it still runs. */
function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  if (!OWN_GROUP || !signalGroup(child.pid)) child.kill("SIGKILL");
}

/** SIGKILL for every process of the group a host child leads; false when there is none left. */
function signalGroup(pid: number): boolean {
  try {
    process.kill(-pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/** Complete lines of a stream, one call each. */
export function splitLines(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let rest = "";
  return (chunk) => {
    const parts = (rest + chunk.toString()).split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) onLine(line.replace(/\r$/, ""));
  };
}
