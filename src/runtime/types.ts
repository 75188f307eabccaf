/**
 * The Workers module shape, which is twelve's portable process API on every platform.
 * These mirror @cloudflare/workers-types closely enough that code written against one
 * type-checks against the other.
 */
import type { SchemaInput, StandardSchemaV1 } from "./schema.ts";

/** Variables and secrets of the formation, by name. */
export type Env = Record<string, string | undefined> & Record<string, unknown>;

export interface ExecutionContext {
  /** Keeps the invocation alive until the promise settles (on Lambda: awaited before returning). */
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

export interface RetryOptions {
  delaySeconds?: number;
}

export interface Message<Body = unknown> {
  readonly id: string;
  readonly body: Body;
  /** 1 on first delivery. */
  readonly attempts: number;
  readonly timestamp: Date;
  ack(): void;
  retry(options?: RetryOptions): void;
}

export interface MessageBatch<Body = unknown> {
  readonly queue: string;
  readonly messages: readonly Message<Body>[];
  ackAll(): void;
  retryAll(options?: RetryOptions): void;
}

export interface ScheduledController {
  /** The crontab line as written in twelve.config.ts. */
  readonly cron: string;
  /** Milliseconds since the epoch of the time this run was scheduled for. */
  readonly scheduledTime: number;
  noRetry(): void;
}

export interface WebModule<E = Env> {
  fetch(request: Request, env: E, ctx: ExecutionContext): Response | Promise<Response>;
}

export interface WorkerModule<Body = unknown, E = Env> {
  queue(batch: MessageBatch<Body>, env: E, ctx: ExecutionContext): void | Promise<void>;
}

export interface ClockModule<E = Env> {
  scheduled(controller: ScheduledController, env: E, ctx: ExecutionContext): void | Promise<void>;
}

/** What `defineWorker({ schema }, handler)` makes: the module carries its schema, for send() and `twelve types`. */
export type SchemaWorkerModule<S extends StandardSchemaV1, E = Env> = WorkerModule<SchemaInput<S>, E> & { readonly schema: S };

/**
 * The formation's workers and the body each takes. Empty here: the declaration file
 * `twelve types` writes (twelve-env.d.ts beside twelve.config.ts) fills it in by module augmentation of
 * "twelve", and then send() and sendBatch() take only those names, each with its body.
 */
export interface TwelveWorkers {}

/** The body a worker module takes: its schema's input, else the Body of its WorkerModule<Body>. */
export type BodyOf<W> = W extends { readonly schema: infer S extends StandardSchemaV1 }
  ? SchemaInput<S>
  : W extends { queue(batch: MessageBatch<infer B>, ...rest: never[]): unknown }
    ? B
    : unknown;

/** A worker's name: any string until `twelve types` has listed them. */
export type WorkerName = [keyof TwelveWorkers] extends [never] ? string : { [K in keyof TwelveWorkers]: K }[keyof TwelveWorkers] & string;

/** The body `send(worker, body)` takes for that worker. */
export type WorkerBody<K extends string> = K extends keyof TwelveWorkers ? BodyFor<K> : unknown;

/**
 * The same type as the worker's body, under a name that says whose it is: a type error then
 * reads "... is not assignable to type 'BodyFor<"mailer">'" rather than naming only the body's
 * type. (A homomorphic mapped type keeps primitives, arrays, unions and optional fields as
 * they are.)
 */
export type BodyFor<K extends keyof TwelveWorkers, T = TwelveWorkers[K]> = { [P in keyof T]: T[P] };

export interface SendOptions {
  /** Seconds before the message may be delivered (AWS: 0..900, Cloudflare: 0..86400). */
  delaySeconds?: number;
}

/** What a process's bundle knows about its formation, injected at build time. */
export interface ProcessMeta {
  app: string;
  process: string;
  type: "web" | "worker" | "clock";
  /** Source entry as written, for messages. */
  entry: string;
  /** Every worker process of the formation. */
  workers: string[];
  /** Names of plain variables and secrets that make up `env`. */
  envKeys: string[];
  /** Workers only: deliveries after the first before a message is dead (the config's maxRetries). */
  maxRetries?: number;
  /** Clocks only. */
  schedule?: string;
  timezone?: string;
}
