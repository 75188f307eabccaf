import type { SendOptions } from "./types.ts";

/** How a platform delivers a message to a worker's queue; installed by the platform wrapper. */
export interface Transport {
  /** The formation's worker processes, for the error when a name is not one. */
  workers: readonly string[];
  maxDelaySeconds: number;
  send(worker: string, body: unknown, options: SendOptions): Promise<void>;
}

let transport: Transport | undefined;

export function installTransport(next: Transport): void {
  transport = next;
}

/**
 * Sends one message to the queue of the worker process named `worker`.
 * The body must survive JSON (it arrives as `message.body`).
 */
export async function send(worker: string, body: unknown, options: SendOptions = {}): Promise<void> {
  if (!transport) {
    throw new Error(
      `send("${worker}") works only inside a twelve process (under twelve dev or deployed); ` +
        "in a unit test, call your worker's queue() with a batch instead",
    );
  }
  if (!transport.workers.includes(worker)) {
    const known = transport.workers.length ? transport.workers.join(", ") : "none";
    throw new Error(`send("${worker}"): "${worker}" is not a worker process of this formation (workers: ${known})`);
  }
  const delay = options.delaySeconds;
  if (delay !== undefined && (!Number.isInteger(delay) || delay < 0 || delay > transport.maxDelaySeconds)) {
    throw new Error(`send("${worker}"): delaySeconds must be a whole number from 0 to ${transport.maxDelaySeconds} on this platform, got ${delay}`);
  }
  if (body === undefined) throw new Error(`send("${worker}"): the body is undefined; send null or a value that survives JSON`);
  await transport.send(worker, body, options);
}
