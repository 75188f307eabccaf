import { schemaOf, validate } from "./schema.ts";
import type { SendOptions, WorkerBody, WorkerName } from "./types.ts";

/** How a platform delivers a message to a worker's queue; installed by the platform wrapper. */
export interface Transport {
  /** The formation's worker processes, for the error when a name is not one. */
  workers: readonly string[];
  maxDelaySeconds: number;
  /** `json`: the body as JSON text, already checked (see bodyJson): what the worker will get. */
  send(worker: string, json: string, options: SendOptions): Promise<void>;
  /**
   * Many bodies at once, in as few calls as the platform allows. Resolves with the bodies the
   * queue did not take (by index into `jsons`, with why), after retrying what can be retried;
   * rejects only when nothing can have been sent. Without it, each body is sent on its own.
   */
  sendBatch?(worker: string, jsons: readonly string[], options: SendOptions): Promise<BatchFailure[]>;
}

/** One body of a sendBatch() that the queue did not accept. */
export interface BatchFailure {
  /** Its index in the bodies given to sendBatch(). */
  index: number;
  /** Why, as the platform said it. */
  error: string;
}

/**
 * Some bodies of a sendBatch() were not accepted; every other body was. `failures` names them
 * by index into the array given, so a caller can send exactly those again.
 */
export class SendBatchError extends Error {
  override readonly name = "SendBatchError";
  readonly worker: string;
  readonly failures: readonly BatchFailure[];
  /** How many bodies were given; `total - failures.length` were accepted. */
  readonly total: number;

  constructor(worker: string, failures: readonly BatchFailure[], total: number) {
    const shown = failures.slice(0, 5).map((f) => `bodies[${f.index}]: ${f.error}`).join("; ");
    const more = failures.length > 5 ? `; and ${failures.length - 5} more (see error.failures)` : "";
    super(`sendBatch("${worker}"): ${failures.length} of ${total} bodies were not accepted (the others were): ${shown}${more}`);
    this.worker = worker;
    this.failures = failures;
    this.total = total;
  }
}

let transport: Transport | undefined;

export function installTransport(next: Transport): void {
  transport = next;
}

/**
 * Sends one message to the queue of the worker process named `worker`.
 * The body must survive JSON (it arrives as `message.body`). With the declaration file of
 * `twelve types`, the name must be one of the formation's workers and the body that worker's.
 */
export async function send<K extends WorkerName>(worker: K, body: WorkerBody<K>, options: SendOptions = {}): Promise<void> {
  const platform = ready(worker, "send", options);
  const json = bodyJson(worker, body);
  await checkSchema(worker, [body], "send");
  await platform.send(worker, json, options);
}

/**
 * Sends many messages to one worker's queue, in as few platform calls as its limits allow
 * (SQS: 10 a call; Cloudflare: 100 a call, 256 KB in all), the calls in parallel. Every body
 * is checked before any is sent. When some are not accepted it throws SendBatchError, naming
 * them by index; the rest were sent. Order across calls is not kept, as with send().
 */
export async function sendBatch<K extends WorkerName>(worker: K, bodies: readonly WorkerBody<K>[], options: SendOptions = {}): Promise<void> {
  const platform = ready(worker, "sendBatch", options);
  if (!Array.isArray(bodies)) throw new TypeError(`sendBatch("${worker}"): bodies must be an array of message bodies, got ${bodies === null ? "null" : typeof bodies}`);
  const jsons = bodies.map((body, index) => bodyJson(worker, body, { call: `sendBatch("${worker}")`, root: `bodies[${index}]` }));
  await checkSchema(worker, bodies, "sendBatch");
  if (jsons.length === 0) return;
  const failures = platform.sendBatch
    ? await platform.sendBatch(worker, jsons, options)
    : (await Promise.allSettled(jsons.map((json) => platform.send(worker, json, options)))).flatMap((result, index) =>
        result.status === "rejected" ? [{ index, error: (result.reason as Error)?.message ?? String(result.reason) }] : []);
  if (failures.length > 0) throw new SendBatchError(worker, [...failures].sort((a, b) => a.index - b.index), jsons.length);
}

function ready(worker: string, call: "send" | "sendBatch", options: SendOptions): Transport {
  if (!transport) {
    throw new Error(
      `${call}("${worker}") works only inside a twelve process (under twelve dev or deployed); ` +
        "in a unit test, call your worker's queue() with a batch instead",
    );
  }
  if (!transport.workers.includes(worker)) {
    const known = transport.workers.length ? transport.workers.join(", ") : "none";
    throw new Error(`${call}("${worker}"): "${worker}" is not a worker process of this formation (workers: ${known})`);
  }
  const delay = options.delaySeconds;
  if (delay !== undefined && (!Number.isInteger(delay) || delay < 0 || delay > transport.maxDelaySeconds)) {
    throw new Error(`${call}("${worker}"): delaySeconds must be a whole number from 0 to ${transport.maxDelaySeconds} on this platform, got ${delay}`);
  }
  return transport;
}

/**
 * The worker's schema, where this bundle has it (the worker's own process: see registerSchema),
 * checks every body before any is sent: a body it would refuse fails here, in the sender, not
 * later as a dead letter.
 */
async function checkSchema(worker: string, bodies: readonly unknown[], call: "send" | "sendBatch"): Promise<void> {
  const schema = schemaOf(worker);
  if (!schema) return;
  for (const [index, body] of bodies.entries()) {
    const checked = await validate(schema, body);
    if ("issues" in checked) {
      const which = call === "send" ? "the body" : `bodies[${index}]`;
      throw new TypeError(`${call}("${worker}"): ${which} does not match the worker's schema, nothing was sent: ${checked.issues}`);
    }
  }
}

/**
 * The body as JSON text, checked here, in the sender, before any network call: a value JSON
 * cannot carry would otherwise fail far away (an HTTP 500 from the queue) or arrive changed
 * (a function dropped, a Map as {}). Properties that are undefined are left out, as
 * JSON.stringify does: that is how optional fields are written.
 */
export function bodyJson(worker: string, body: unknown, label = { call: `send("${worker}")`, root: "the body" }): string {
  const { call, root } = label;
  if (body === undefined) throw new Error(`${call}: ${root} is undefined; send null or a value JSON can carry`);
  // Where each object sits in the body, for the error's "body.user.id".
  const places = new Map<object, string>();
  const refuse = (place: string, what: string, instead: string) => {
    throw new TypeError(`${call}: ${place} is ${what}, which JSON cannot carry; ${instead}`);
  };
  let json: string | undefined;
  try {
    json = JSON.stringify(body, function (this: object, key: string, value: unknown) {
      const holder = places.get(this);
      const place = holder === undefined ? root : Array.isArray(this) ? `${holder}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${holder}.${key}` : `${holder}[${JSON.stringify(key)}]`;
      const base = holder === undefined ? (root === "the body" ? "body" : root) : place;
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
      throw new TypeError(`${call}: ${root} refers to itself (a cycle), which JSON cannot carry; send a copy without the loop`, { cause: error });
    }
    if (error instanceof TypeError && error.message.startsWith(call)) throw error;
    throw new Error(`${call}: ${root} cannot be turned into JSON: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  // A toJSON() that returns undefined, say.
  if (json === undefined) throw new Error(`${call}: ${root} turns into nothing as JSON; send null or a value JSON can carry`);
  return json;
}
