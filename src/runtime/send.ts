import type { SendOptions } from "./types.ts";

/** How a platform delivers a message to a worker's queue; installed by the platform wrapper. */
export interface Transport {
  /** The formation's worker processes, for the error when a name is not one. */
  workers: readonly string[];
  maxDelaySeconds: number;
  /** `json`: the body as JSON text, already checked (see bodyJson): what the worker will get. */
  send(worker: string, json: string, options: SendOptions): Promise<void>;
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
  await transport.send(worker, bodyJson(worker, body), options);
}

/**
 * The body as JSON text, checked here, in the sender, before any network call: a value JSON
 * cannot carry would otherwise fail far away (an HTTP 500 from the queue) or arrive changed
 * (a function dropped, a Map as {}). Properties that are undefined are left out, as
 * JSON.stringify does: that is how optional fields are written.
 */
export function bodyJson(worker: string, body: unknown): string {
  if (body === undefined) throw new Error(`send("${worker}"): the body is undefined; send null or a value JSON can carry`);
  // Where each object sits in the body, for the error's "body.user.id".
  const places = new Map<object, string>();
  const refuse = (place: string, what: string, instead: string) => {
    throw new TypeError(`send("${worker}"): ${place} is ${what}, which JSON cannot carry; ${instead}`);
  };
  let json: string | undefined;
  try {
    json = JSON.stringify(body, function (this: object, key: string, value: unknown) {
      const holder = places.get(this);
      const place = holder === undefined ? "the body" : Array.isArray(this) ? `${holder}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${holder}.${key}` : `${holder}[${JSON.stringify(key)}]`;
      const base = holder === undefined ? "body" : place;
      if (typeof value === "bigint") refuse(place, "a BigInt", "send it as a string (String(n)) or a number");
      if (typeof value === "symbol") refuse(place, "a Symbol", "send a string instead");
      if (typeof value === "function") refuse(place, "a function", "send data, not code");
      if (value instanceof Map) refuse(place, "a Map", "send Object.fromEntries(map) or [...map] (JSON would make it {})");
      if (value instanceof Set) refuse(place, "a Set", "send [...set] (JSON would make it {})");
      if (value !== null && typeof value === "object") places.set(value, base);
      return value;
    });
  } catch (error) {
    if (error instanceof TypeError && /circular/i.test(error.message)) {
      throw new TypeError(`send("${worker}"): the body refers to itself (a cycle), which JSON cannot carry; send a copy without the loop`, { cause: error });
    }
    if (error instanceof TypeError && error.message.startsWith(`send("${worker}")`)) throw error;
    throw new Error(`send("${worker}"): the body cannot be turned into JSON: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  // A toJSON() that returns undefined, say.
  if (json === undefined) throw new Error(`send("${worker}"): the body turns into nothing as JSON; send null or a value JSON can carry`);
  return json;
}
