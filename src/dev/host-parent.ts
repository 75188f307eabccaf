import { fork } from "node:child_process";
import { NotDelivered } from "./broker.ts";

/** Messages between twelve dev and a process's host child. */
export type ToHost = { kind: "invoke"; id: number; payload: unknown } | { kind: "reply"; id: number; ok: boolean; value?: unknown; error?: string };
export type FromHost =
  | { kind: "ready" }
  | { kind: "result"; id: number; ok: boolean; value?: unknown; error?: string }
  | { kind: "request"; id: number; payload: unknown };

export interface HostChild {
  /** One call into the process; killed (and rejected) past `timeoutSeconds`, as a platform would. */
  invoke(payload: unknown, timeoutSeconds: number): Promise<unknown>;
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
  const child = fork(options.script, [], { execArgv: ["--enable-source-maps"], stdio: ["ignore", "pipe", "pipe", "ipc"], env: options.env });
  child.stdout?.on("data", splitLines(options.log));
  child.stderr?.on("data", splitLines(options.log));
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  let stopping = false;
  /** Set the moment the child is known to be going: nothing more is handed to it. */
  let going = false;
  /** Set when twelve killed it for one call's timeout: its other calls did nothing wrong. */
  let killedFor: string | undefined;
  const ended = new Promise<string>((resolve) => {
    child.on("exit", (code, signal) => {
      going = true;
      const reason = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      for (const p of pending.values()) {
        // On a platform each call runs in its own instance: one call's timeout fails only that one.
        p.reject(killedFor ? new NotDelivered(`${options.name} was restarted because ${killedFor}`) : new Error(`${options.name} ${reason}`));
      }
      pending.clear();
      if (!stopping) resolve(signal ? `was killed by ${signal}` : `exited with code ${code}`);
    });
  });
  const started = new Promise<void>((resolve, reject) => {
    void ended.then((reason) => reject(new Error(`it ${reason} while starting`)));
    child.on("message", (message: FromHost) => {
      if (message.kind === "ready") resolve();
      if (message.kind === "result") {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.ok) waiter?.resolve(message.value);
        else waiter?.reject(new Error(message.error));
      }
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
    invoke: (payload, timeoutSeconds) =>
      new Promise((resolve, reject) => {
        if (going || !child.connected) return reject(new NotDelivered(`${options.name} is not running`));
        const id = ++nextId;
        const timer = setTimeout(() => {
          pending.delete(id);
          going = true;
          killedFor ??= `another call timed out after ${timeoutSeconds} s`;
          reject(new Error(`${options.name} timed out after ${timeoutSeconds} s; restarting it`));
          child.kill("SIGKILL");
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
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
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
