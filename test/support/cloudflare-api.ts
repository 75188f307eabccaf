// A local, stateful stand-in for the part of the Cloudflare REST API (v4) that wrangler's
// deploy, queues, secret and delete commands use, and that a deployer reads back with fetch.
//
// Point the real wrangler at it with CLOUDFLARE_API_BASE_URL=<url> (the base includes
// /client/v4, as wrangler's default https://api.cloudflare.com/client/v4 does),
// CLOUDFLARE_API_TOKEN=<anything> and CLOUDFLARE_ACCOUNT_ID=<accountId>.
//
// Every answer is in Cloudflare's envelope { success, errors, messages, result, result_info? }.
// Error codes are the ones Cloudflare answers with where known (see ERR below); a request to a
// route this stand-in does not know is answered 404 with code 7003 and printed to stderr, so a
// new wrangler call shows up at once.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { Duplex } from "node:stream";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ConsumerView, QueueView, ScriptView } from "../../adapters/cloudflare/api-types.ts";

export interface ApiCall {
  method: string;
  /** Path below the base URL, without the query: /accounts/<id>/workers/scripts/<name>. */
  path: string;
  /** The query string without "?", when there is one. */
  query?: string;
  /** Parsed JSON; for multipart bodies { metadata, parts: [{ name, type, size }] }. Secret values are redacted. */
  body?: unknown;
  status: number;
}

/** A call that uploaded a Worker's code: a script PUT (first deploy) or a new version (redeploy). */
export function isUpload(call: ApiCall): boolean {
  return (call.method === "PUT" && /\/workers\/scripts\/[^/]+$/.test(call.path)) || (call.method === "POST" && call.path.endsWith("/versions"));
}

export interface ApiError {
  code: number;
  message: string;
}

export interface QueueConsumerRecord {
  consumer_id: string;
  type: "worker" | "http_pull";
  script_name?: string;
  queue_name: string;
  dead_letter_queue: string;
  settings: {
    batch_size?: number;
    max_retries?: number;
    max_wait_time_ms?: number;
    max_concurrency?: number | null;
    retry_delay?: number;
    visibility_timeout_ms?: number;
  };
  created_on: string;
}

export interface QueueRecord {
  queue_id: string;
  queue_name: string;
  created_on: string;
  modified_on: string;
  settings: { delivery_delay?: number; delivery_paused?: boolean; message_retention_period?: number };
  consumers: QueueConsumerRecord[];
  /** Messages pushed through the REST API (POST /queues/:id/messages); nothing consumes them. */
  messages: QueueMessageRecord[];
}

export interface QueueMessageRecord {
  id: string;
  body: unknown;
  content_type: string;
  delay_seconds: number;
  sent_on: string;
  /** Deliveries to a pull consumer so far (peek counts none). */
  attempts?: number;
  /** The lease of its current pull, if one holds it: invisible until it ends. */
  lease?: { id: string; until: number };
  /** Not deliverable before (ms): a retry's delay_seconds. */
  visibleAt?: number;
}

export interface ModulePart {
  name: string;
  type: string;
  content: string;
}

/** What one upload (PUT script or POST versions) carried: what a deployment makes live. */
export interface VersionRecord {
  id: string;
  number: number;
  created_on: string;
  source: string;
  annotations: Record<string, string>;
  mainModule: string;
  modules: ModulePart[];
  sourceMaps: ModulePart[];
  contentHash: string;
  /** The metadata bindings as uploaded, secret values removed, `inherit` resolved. */
  bindings: Record<string, unknown>[];
  compatibilityDate?: string;
  compatibilityFlags: string[];
  metadata: Record<string, unknown>;
}

export interface DeploymentRecord {
  id: string;
  created_on: string;
  source: string;
  strategy: string;
  versions: { version_id: string; percentage: number }[];
  annotations: Record<string, string>;
}

export interface ScriptRecord {
  name: string;
  /** Cloudflare's internal script tag (not a user tag). */
  tag: string;
  etag: string;
  created_on: string;
  modified_on: string;
  /** "wrangler" when the last upload came from wrangler's user agent, else "api". */
  last_deployed_from: string;
  // What is live (the deployed version):
  mainModule: string;
  modules: ModulePart[];
  sourceMaps: ModulePart[];
  /** sha256 over the module parts (name, type, content), sorted by name. */
  contentHash: string;
  /** Non-secret bindings as uploaded (queue, plain_text, json, ...). */
  bindings: Record<string, unknown>[];
  /** plain_text and json bindings by name. */
  vars: Record<string, unknown>;
  compatibilityDate?: string;
  compatibilityFlags: string[];
  handlers: string[];
  deployedVersionId: string;
  annotations: Record<string, string>;
  // Script-wide (not versioned) settings:
  tags: string[];
  observability?: unknown;
  logpush?: boolean;
  tailConsumers?: unknown;
  crons: { cron: string; created_on: string; modified_on: string }[];
  workersDev: boolean;
  previewsEnabled: boolean;
  /** Secret values by name; only their names ever leave the stand-in. */
  secrets: Map<string, string>;
  /** The tag of the Durable Object migration last applied (an upload's `migrations.new_tag`). */
  migrationTag?: string;
  versions: VersionRecord[];
  deployments: DeploymentRecord[];
}

export interface CloudflareApiState {
  accountId: string;
  /** The account's workers.dev subdomain; null answers 10007 as an account without one does. */
  subdomain: string | null;
  scripts: Map<string, ScriptRecord>;
  /** By queue_id. */
  queues: Map<string, QueueRecord>;
}

export interface FailMatch {
  method: string;
  pathIncludes: string;
}

export interface CloudflareApi {
  /** Base URL including /client/v4, for CLOUDFLARE_API_BASE_URL. */
  url: string;
  accountId: string;
  calls: ApiCall[];
  state: CloudflareApiState;
  queueByName(name: string): QueueRecord | undefined;
  /** The next request matching (method, path substring) is answered with an error (default 500). */
  failNext(match: FailMatch, status?: number, error?: ApiError): void;
  /**
   * From now on, the n-th mutating call (not GET) and every one after it is refused (400), as if
   * the deploy died there; calls `spare` matches (their path, the name of the queue they address,
   * their body) are not counted nor refused.
   * undefined lifts the cut. Returns nothing; `writes` counts what got through.
   */
  cutWrites(n: number | undefined, spare?: RegExp): void;
  /** Mutating calls answered with success so far. */
  readonly writes: number;
  /** Requests nothing answered (404, code 7003), e.g. a wrangler call this stand-in lacks. */
  unknown: string[];
  /** How many `wrangler tail` sessions are connected to a script's tail. */
  tailsOpen(script: string): number;
  /** Sends one trace event (as Cloudflare's tail WebSocket does) to every tail of a script. */
  emitTail(script: string, event: Record<string, unknown>): void;
  stop(): Promise<void>;
}

/**
 * Error codes. Sources: wrangler 4.164's own constants (10007 WORKER_NOT_FOUND_ERR_CODE,
 * 10090, 10021 validation, 100127 INVALID_CONSUMER_SETTINGS_ERROR, 100128
 * INVALID_QUEUE_SETTINGS_ERROR, 10000 authentication), Cloudflare's public issues
 * (11004 workers.api.error.consumer_exists, workers-sdk#5347; 10002 internal_server,
 * workers-sdk#2893) and typed error tables built from the live API (11000 QueueNotFound,
 * 11001 "queue handler is missing", 11005 queue in use by a Worker binding; alchemy-run/distilled).
 */
export const ERR = {
  auth: { code: 10000, message: "Authentication error" },
  internal: { code: 10002, message: "workers.api.error.internal_server" },
  scriptNotFound: { code: 10007, message: "workers.api.error.script_not_found" },
  validation: 10021,
  secretNotFound: { code: 10056, message: "workers.api.error.secret_not_found" },
  queueNotFound: { code: 11000, message: "workers.api.error.queue_not_found" },
  queueHandlerMissing: { code: 11001, message: "queue handler is missing" },
  consumerExists: { code: 11004, message: "workers.api.error.consumer_exists" },
  queueInUse: { code: 11005, message: "workers.api.error.queue_in_use_by_worker_binding" },
  /** Code not confirmed from a public source; the 409 status is what clients (alchemy) check. */
  queueExists: { code: 11009, message: "workers.api.error.queue_already_exists" },
  invalidConsumerSettings: 100127,
  invalidQueueSettings: 100128,
  noRoute: { code: 7003, message: "No route for the URI" },
  versionNotFound: { code: 100146, message: "workers.api.error.version_not_found" },
} as const;

class HttpError extends Error {
  status: number;
  errors: ApiError[];
  constructor(status: number, ...errors: ApiError[]) {
    super(errors.map((e) => `${e.message} [code: ${e.code}]`).join("; "));
    this.status = status;
    this.errors = errors;
  }
}

interface Reply {
  status?: number;
  result: unknown;
  result_info?: Record<string, unknown>;
  raw?: { contentType: string; body: string | Buffer };
  form?: FormData;
}

const hex = (bytes: number): string => randomBytes(bytes).toString("hex");
const now = (): string => new Date().toISOString();
const consumerLimits = {
  batch_size: [1, 100],
  max_retries: [0, 100],
  max_wait_time_ms: [0, 60_000],
  max_concurrency: [1, 250],
  // "delaySeconds (when sending or retrying): 24 hours" (developers.cloudflare.com/queues/platform/limits/).
  retry_delay: [0, 86_400],
  visibility_timeout_ms: [0, 43_200_000],
} as const;

export interface StandInOptions {
  accountId?: string;
  subdomain?: string | null;
  /** The most queues one page of GET /queues holds, whatever per_page asks (the API may page smaller). */
  queuePageSize?: number;
  /**
   * How a queue whose name is taken is refused. No public source confirms Cloudflare's status and
   * code for it: 409 is what clients check (alchemy); the error-code form (400, code) is tried too.
   */
  duplicateQueue?: { status: number; error: ApiError };
}

export async function startCloudflareApi(options: StandInOptions = {}): Promise<CloudflareApi> {
  const accountId = options.accountId ?? hex(16);
  const state: CloudflareApiState = {
    accountId,
    subdomain: options.subdomain === undefined ? "twelve-test" : options.subdomain,
    scripts: new Map(),
    queues: new Map(),
  };
  const calls: ApiCall[] = [];
  const unknown: string[] = [];
  const failures: { match: FailMatch; status: number; error: ApiError }[] = [];
  let cut: { at: number; seen: number; spare: RegExp | undefined } | undefined;
  const tailSessions = new Map<string, { script: string; sockets: Set<TailSocket> }>();
  // Known once the server listens; only tail URLs need it.
  let port = 0;

  const queueByName = (name: string): QueueRecord | undefined => [...state.queues.values()].find((q) => q.queue_name === name);

  // ---- scripts ---------------------------------------------------------------------------

  const script = (name: string): ScriptRecord => {
    const s = state.scripts.get(name);
    if (!s) throw new HttpError(404, ERR.scriptNotFound);
    return s;
  };

  const producersOf = (queueName: string): { type: "worker"; script: string }[] =>
    [...state.scripts.values()].filter((s) => s.bindings.some((b) => b.type === "queue" && b.queue_name === queueName)).map((s) => ({ type: "worker", script: s.name }));

  const secretBindings = (s: ScriptRecord): Record<string, unknown>[] => [...s.secrets.keys()].map((name) => ({ name, type: "secret_text" }));

  /** Checks an upload's bindings as Cloudflare does, resolving `inherit` against what is live. */
  const resolveBindings = (metadata: Record<string, unknown>, previous: ScriptRecord | undefined): { bindings: Record<string, unknown>[]; secrets: Map<string, string> } => {
    const raw = metadata.bindings ?? [];
    if (!Array.isArray(raw)) throw new HttpError(400, { code: ERR.validation, message: "Uncaught TypeError: bindings must be an array" });
    const keep = new Set(Array.isArray(metadata.keep_bindings) ? (metadata.keep_bindings as string[]) : []);
    const secrets = new Map<string, string>();
    if (previous && keep.has("secret_text")) for (const [k, v] of previous.secrets) secrets.set(k, v);
    const bindings: Record<string, unknown>[] = [];
    const names = new Set<string>();
    for (const entry of raw as Record<string, unknown>[]) {
      const name = entry.name;
      if (typeof name !== "string" || !name) throw new HttpError(400, { code: ERR.validation, message: "binding must have a name" });
      if (names.has(name)) throw new HttpError(400, { code: ERR.validation, message: `binding ${name} is defined more than once` });
      names.add(name);
      switch (entry.type) {
        case "secret_text":
          secrets.set(name, String(entry.text ?? ""));
          continue;
        case "inherit": {
          const before = previous?.bindings.find((b) => b.name === name);
          if (before) bindings.push(before);
          else if (previous?.secrets.has(name)) secrets.set(name, previous.secrets.get(name) ?? "");
          else throw new HttpError(400, { code: ERR.validation, message: `binding ${name} of type inherit has no binding to inherit from the previous version` });
          continue;
        }
        case "queue": {
          const queueName = entry.queue_name;
          if (typeof queueName !== "string" || !queueName) throw new HttpError(400, { code: ERR.validation, message: `binding ${name} of type queue must have a queue specified` });
          if (!queueByName(queueName)) throw new HttpError(400, { ...ERR.queueNotFound, message: `${ERR.queueNotFound.message}: binding ${name} refers to queue "${queueName}", which does not exist` });
          break;
        }
        case "plain_text":
          if (typeof entry.text !== "string") throw new HttpError(400, { code: ERR.validation, message: `binding ${name} of type plain_text must have a text specified` });
          break;
        default:
          break;
      }
      bindings.push(entry);
    }
    if (previous && keep.has("plain_text")) for (const b of previous.bindings) if ((b.type === "plain_text" || b.type === "json") && !names.has(String(b.name))) bindings.push(b);
    // A name may not be both a secret and another binding.
    for (const b of bindings) secrets.delete(String(b.name));
    return { bindings, secrets };
  };

  const detectHandlers = (source: string): string[] =>
    ["fetch", "queue", "scheduled", "tail", "email"].filter((h) => new RegExp(`(?:^|[^.\\w$])(?:async\\s+)?${h}\\s*(?:\\(|:)`).test(source));

  const hashModules = (modules: ModulePart[]): string => {
    const h = createHash("sha256");
    for (const m of [...modules].sort((a, b) => (a.name < b.name ? -1 : 1))) h.update(`${m.name}\0${m.type}\0${m.content}\0`);
    return h.digest("hex");
  };

  /** Reads a multipart Worker upload into a version (not yet deployed). */
  const readUpload = async (req: http.IncomingMessage, body: Buffer, previous: ScriptRecord | undefined): Promise<{ version: VersionRecord; secrets: Map<string, string>; metadata: Record<string, unknown> }> => {
    const form = await parseForm(req, body);
    const metadataPart = form.get("metadata");
    if (metadataPart === null) throw new HttpError(400, { code: 10001, message: "No metadata part in the multipart upload" });
    let metadata: Record<string, unknown>;
    try {
      metadata = JSON.parse(typeof metadataPart === "string" ? metadataPart : await metadataPart.text()) as Record<string, unknown>;
    } catch {
      throw new HttpError(400, { code: 10001, message: "metadata is not valid JSON" });
    }
    const modules: ModulePart[] = [];
    const sourceMaps: ModulePart[] = [];
    for (const [partName, value] of form.entries()) {
      if (partName === "metadata") continue;
      const part: ModulePart = typeof value === "string" ? { name: partName, type: "text/plain", content: value } : { name: partName, type: value.type, content: await value.text() };
      (part.type === "application/source-map" ? sourceMaps : modules).push(part);
    }
    const mainModule = typeof metadata.main_module === "string" ? metadata.main_module : typeof metadata.body_part === "string" ? metadata.body_part : "";
    const main = modules.find((m) => m.name === mainModule);
    if (!main) throw new HttpError(400, { code: ERR.validation, message: `No such module "${mainModule}". The main module must be one of the uploaded parts.` });
    const { bindings, secrets } = resolveBindings(metadata, previous);
    const all = [...(previous?.versions ?? [])];
    const version: VersionRecord = {
      id: randomUUID(),
      number: (all.at(-1)?.number ?? 0) + 1,
      created_on: now(),
      source: userAgentSource(req),
      annotations: isStringRecord(metadata.annotations) ? metadata.annotations : {},
      mainModule,
      modules,
      sourceMaps,
      contentHash: hashModules(modules),
      bindings,
      compatibilityDate: typeof metadata.compatibility_date === "string" ? metadata.compatibility_date : undefined,
      compatibilityFlags: Array.isArray(metadata.compatibility_flags) ? (metadata.compatibility_flags as string[]) : [],
      metadata: redactMetadata(metadata),
    };
    return { version, secrets, metadata };
  };

  const newScript = (name: string, from: string): ScriptRecord => ({
    name,
    tag: hex(16),
    etag: "",
    created_on: now(),
    modified_on: now(),
    last_deployed_from: from,
    mainModule: "",
    modules: [],
    sourceMaps: [],
    contentHash: "",
    bindings: [],
    vars: {},
    compatibilityFlags: [],
    handlers: [],
    deployedVersionId: "",
    annotations: {},
    tags: [],
    crons: [],
    workersDev: false,
    previewsEnabled: false,
    secrets: new Map(),
    versions: [],
    deployments: [],
  });

  const makeLive = (s: ScriptRecord, v: VersionRecord): void => {
    s.mainModule = v.mainModule;
    s.modules = v.modules;
    s.sourceMaps = v.sourceMaps;
    s.contentHash = v.contentHash;
    s.bindings = v.bindings;
    s.vars = Object.fromEntries(v.bindings.filter((b) => b.type === "plain_text" || b.type === "json").map((b) => [String(b.name), b.type === "json" ? b.json : b.text]));
    s.compatibilityDate = v.compatibilityDate;
    s.compatibilityFlags = v.compatibilityFlags;
    s.handlers = detectHandlers(v.modules.find((m) => m.name === v.mainModule)?.content ?? "");
    s.deployedVersionId = v.id;
    s.annotations = v.annotations;
    s.etag = v.contentHash;
    s.modified_on = now();
  };

  const deploy = (s: ScriptRecord, v: VersionRecord, source: string, annotations: Record<string, string> = {}): DeploymentRecord => {
    makeLive(s, v);
    const d: DeploymentRecord = { id: randomUUID(), created_on: now(), source, strategy: "percentage", versions: [{ version_id: v.id, percentage: 100 }], annotations };
    s.deployments.unshift(d);
    return d;
  };

  const scriptSummary = (s: ScriptRecord): ScriptView => ({
    id: s.name,
    tag: s.tag,
    tags: s.tags,
    etag: s.etag,
    handlers: s.handlers,
    named_handlers: [],
    created_on: s.created_on,
    modified_on: s.modified_on,
    usage_model: "standard",
    compatibility_date: s.compatibilityDate,
    compatibility_flags: s.compatibilityFlags,
    last_deployed_from: s.last_deployed_from,
    has_modules: true,
    has_assets: false,
    logpush: s.logpush ?? false,
    // As wrangler sent them (its shapes are the schema's).
    observability: s.observability as ScriptView["observability"],
    tail_consumers: (s.tailConsumers ?? null) as ScriptView["tail_consumers"],
    ...(s.migrationTag ? { migration_tag: s.migrationTag } : {}),
  });

  const versionView = (s: ScriptRecord, v: VersionRecord): Record<string, unknown> => ({
    id: v.id,
    number: v.number,
    metadata: { created_on: v.created_on, modified_on: v.created_on, source: v.source, author_id: hex(16), author_email: "test@example.com", hasPreview: false },
    annotations: { "workers/triggered_by": v.number === 1 ? "upload" : "version_upload", ...v.annotations },
    resources: {
      script: { etag: v.contentHash, handlers: detectHandlers(v.modules.find((m) => m.name === v.mainModule)?.content ?? ""), last_deployed_from: s.last_deployed_from },
      script_runtime: { compatibility_date: v.compatibilityDate, compatibility_flags: v.compatibilityFlags, usage_model: "standard", limits: {} },
      bindings: [...v.bindings, ...secretBindings(s)],
    },
  });

  const settingsView = (s: ScriptRecord): Record<string, unknown> => ({
    bindings: [...s.bindings, ...secretBindings(s)],
    compatibility_date: s.compatibilityDate,
    compatibility_flags: s.compatibilityFlags,
    logpush: s.logpush ?? false,
    observability: s.observability ?? null,
    placement: {},
    tags: s.tags,
    tail_consumers: s.tailConsumers ?? null,
    usage_model: "standard",
    limits: {},
  });

  const removeScript = (name: string): void => {
    script(name);
    state.scripts.delete(name);
    // Cloudflare removes the Worker's queue consumers with it; its producer bindings go with the script.
    for (const q of state.queues.values()) q.consumers = q.consumers.filter((c) => c.script_name !== name);
  };

  const patchScriptSettings = (s: ScriptRecord, body: Record<string, unknown>): void => {
    if ("tags" in body) {
      const tags = body.tags;
      if (tags !== null && (!Array.isArray(tags) || tags.some((t) => typeof t !== "string"))) throw new HttpError(400, { code: ERR.validation, message: "tags must be a list of strings" });
      // Cloudflare's documented limits: at most eight tags a script, no "," or "&" in one.
      if (Array.isArray(tags) && (tags.length > 8 || tags.some((t) => /[,&]/.test(String(t))))) throw new HttpError(400, { code: ERR.validation, message: "at most 8 tags, without ',' or '&'" });
      s.tags = (tags as string[] | null) ?? [];
    }
    if ("observability" in body) s.observability = body.observability;
    if ("logpush" in body) s.logpush = Boolean(body.logpush);
    if ("tail_consumers" in body) s.tailConsumers = body.tail_consumers;
  };

  // ---- Durable Object migrations (clock leases) ---------------------------------------------
  /**
   * An upload's migrations, as Cloudflare takes them: `old_tag` must be the script's tag (none
   * for a script without one), and the script then has `new_tag`, which wrangler reads back
   * (migration_tag of GET /workers/services/:script) to send only newer migrations. The refusal's
   * code (10079) is not confirmed from a public source.
   */
  const migrationTagAfter = (previous: ScriptRecord | undefined, metadata: Record<string, unknown>): string | undefined => {
    const migrations = metadata.migrations as { old_tag?: string; new_tag?: string; steps?: unknown[] } | undefined;
    if (!migrations) return undefined;
    if ((migrations.old_tag ?? undefined) !== (previous?.migrationTag ?? undefined)) {
      throw new HttpError(400, { code: 10079, message: `migration precondition failed: the script's migration tag is ${previous?.migrationTag ?? "(none)"}, the upload's old_tag ${migrations.old_tag ?? "(none)"}` });
    }
    if (typeof migrations.new_tag !== "string" || !migrations.new_tag) throw new HttpError(400, { code: ERR.validation, message: "migrations must have a new_tag" });
    return migrations.new_tag;
  };

  // ---- queues ----------------------------------------------------------------------------

  const queueView = (q: QueueRecord): QueueView => {
    const producers = producersOf(q.queue_name);
    const consumers = q.consumers.map(consumerView);
    const { messages: _messages, ...listed } = q;
    return { ...listed, producers, producers_total_count: producers.length, consumers, consumers_total_count: consumers.length };
  };
  /**
   * A consumer in the schema's shape, plus two fields Cloudflare's schema does not list and no
   * public source confirms: `script` (wrangler 4.164 shows it in `queues consumer worker list`,
   * falling back to `service`) and `queue_id`. twelve reads neither.
   */
  const consumerView = (c: QueueConsumerRecord): ConsumerView & { script?: string; queue_id?: string } => {
    const queue = queueByName(c.queue_name);
    // A cap set to null (the platform's maximum) reads back as no cap: the schema's response has no null.
    const { max_concurrency, ...settings } = c.settings;
    const extra = { ...(c.script_name !== undefined ? { script: c.script_name } : {}), ...(queue ? { queue_id: queue.queue_id } : {}) };
    const common = { consumer_id: c.consumer_id, queue_name: c.queue_name, dead_letter_queue: c.dead_letter_queue, created_on: c.created_on };
    if (c.type === "http_pull") return { ...common, type: "http_pull", settings, ...extra };
    return { ...common, type: "worker", script_name: c.script_name ?? "", settings: { ...settings, ...(max_concurrency === null || max_concurrency === undefined ? {} : { max_concurrency }) }, ...extra };
  };
  const queue = (id: string): QueueRecord => {
    const q = state.queues.get(id);
    if (!q) throw new HttpError(404, ERR.queueNotFound);
    return q;
  };

  const checkQueueSettings = (settings: unknown): QueueRecord["settings"] => {
    if (settings === undefined || settings === null) return {};
    const s = settings as QueueRecord["settings"];
    const bad = (s.delivery_delay !== undefined && !(s.delivery_delay >= 0 && s.delivery_delay <= 86_400)) || (s.message_retention_period !== undefined && !(s.message_retention_period >= 60 && s.message_retention_period <= 1_209_600));
    if (bad) throw new HttpError(400, { code: ERR.invalidQueueSettings, message: "workers.api.error.invalid_queue_settings" });
    return { ...s };
  };

  const checkConsumer = (q: QueueRecord, body: Record<string, unknown>, replacing?: QueueConsumerRecord): QueueConsumerRecord => {
    const type = body.type ?? "worker";
    if (type !== "worker" && type !== "http_pull") throw new HttpError(400, { code: ERR.invalidConsumerSettings, message: `unknown consumer type ${String(type)}` });
    const settings = (body.settings ?? {}) as Record<string, unknown>;
    const clean: QueueConsumerRecord["settings"] = {};
    for (const [key, [min, max]] of Object.entries(consumerLimits)) {
      const value = settings[key];
      if (value === undefined) continue;
      if (value === null && key === "max_concurrency") {
        clean.max_concurrency = null;
        continue;
      }
      if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
        throw new HttpError(400, { code: ERR.invalidConsumerSettings, message: `workers.api.error.invalid_consumer_settings: ${key} must be an integer from ${min} to ${max}` });
      (clean as Record<string, number>)[key] = value;
    }
    const dlq = typeof body.dead_letter_queue === "string" ? body.dead_letter_queue : "";
    if (dlq && !queueByName(dlq)) throw new HttpError(404, { ...ERR.queueNotFound, message: `${ERR.queueNotFound.message}: dead letter queue "${dlq}" does not exist` });
    if (dlq === q.queue_name) throw new HttpError(400, { code: ERR.invalidConsumerSettings, message: "a queue cannot be its own dead letter queue" });
    let scriptName: string | undefined;
    if (type === "worker") {
      scriptName = typeof body.script_name === "string" ? body.script_name : typeof body.script === "string" ? body.script : undefined;
      if (!scriptName) throw new HttpError(400, { code: ERR.invalidConsumerSettings, message: "a worker consumer needs a script_name" });
      const s = script(scriptName);
      if (!s.handlers.includes("queue")) throw new HttpError(400, ERR.queueHandlerMissing);
    }
    // One consumer per queue: "A queue cannot have both a Worker (push) consumer and an HTTP
    // (pull) consumer" (developers.cloudflare.com/queues/configuration/pull-consumers/).
    if (q.consumers.some((c) => c !== replacing)) throw new HttpError(400, ERR.consumerExists);
    return {
      consumer_id: replacing?.consumer_id ?? hex(16),
      type,
      ...(scriptName !== undefined ? { script_name: scriptName } : {}),
      queue_name: q.queue_name,
      dead_letter_queue: dlq,
      settings: type === "worker" ? { batch_size: 10, max_retries: 3, max_wait_time_ms: 5000, ...clean } : { batch_size: 10, max_retries: 3, visibility_timeout_ms: 30_000, ...clean },
      created_on: replacing?.created_on ?? now(),
    };
  };

  // ---- routing ---------------------------------------------------------------------------

  type Handler = (ctx: { req: http.IncomingMessage; body: Buffer; json: () => Record<string, unknown>; query: URLSearchParams; p: string[] }) => Promise<Reply> | Reply;
  const routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  const route = (method: string, path: string, handler: Handler): void => {
    const pattern = new RegExp(`^${path.replace(/:[a-z_]+/g, "([^/]+)")}$`);
    routes.push({ method, pattern, handler });
  };
  const ok = (result: unknown, extra: Partial<Reply> = {}): Reply => ({ result, ...extra });

  const A = "/accounts/:account";
  const S = `${A}/workers/scripts/:script`;

  // Account-level
  route("GET", `${A}/workers/subdomain`, () => {
    if (state.subdomain === null) throw new HttpError(404, { code: 10007, message: "workers.api.error.subdomain_not_found" });
    return ok({ subdomain: state.subdomain });
  });
  route("PUT", `${A}/workers/subdomain`, ({ json }) => {
    state.subdomain = String(json().subdomain);
    return ok({ subdomain: state.subdomain });
  });
  route("GET", `${A}/workers/account-settings`, () => ok({ default_usage_model: "standard", green_compute: false }));
  route("GET", `${A}/workers/durable_objects/namespaces`, () => ok([], { result_info: { page: 1, per_page: 1000, count: 0, total_count: 0 } }));
  route("GET", `${A}/storage/kv/namespaces`, () => ok([], { result_info: { page: 1, per_page: 100, count: 0, total_count: 0 } }));
  route("GET", `${A}/workers/domains`, () => ok([]));

  // Scripts
  route("GET", `${A}/workers/scripts`, () => ok([...state.scripts.values()].map(scriptSummary)));
  route("PUT", S, async ({ req, body, p }) => {
    const name = p[1] ?? "";
    checkScriptName(name);
    const previous = state.scripts.get(name);
    const { version, secrets, metadata } = await readUpload(req, body, previous);
    const migrationTag = migrationTagAfter(previous, metadata);
    const s = previous ?? newScript(name, userAgentSource(req));
    if (migrationTag !== undefined) s.migrationTag = migrationTag;
    s.last_deployed_from = userAgentSource(req);
    s.secrets = secrets;
    s.versions.push(version);
    // Script-wide settings an upload carries (the versions API ignores these).
    patchScriptSettings(s, pick(metadata, ["tags", "observability", "logpush", "tail_consumers"]));
    deploy(s, version, userAgentSource(req), { "workers/triggered_by": "upload" });
    state.scripts.set(name, s);
    return ok({ ...scriptSummary(s), startup_time_ms: 1, deployment_id: version.id });
  });
  route("GET", S, ({ p }) => {
    const s = script(p[1] ?? "");
    const form = new FormData();
    for (const m of s.modules) form.set(m.name, new File([m.content], m.name, { type: m.type }));
    return { result: null, form };
  });
  route("DELETE", S, ({ p }) => {
    removeScript(p[1] ?? "");
    return ok(null);
  });
  route("GET", `${S}/content/v2`, ({ p }) => {
    const s = script(p[1] ?? "");
    return { result: null, raw: { contentType: "application/javascript+module", body: s.modules.find((m) => m.name === s.mainModule)?.content ?? "" } };
  });
  route("GET", `${A}/workers/services/:script`, ({ p }) => {
    const s = script(p[1] ?? "");
    return ok({ id: s.name, default_environment: { environment: "production", created_on: s.created_on, modified_on: s.modified_on, script: scriptSummary(s) }, created_on: s.created_on, modified_on: s.modified_on });
  });
  route("DELETE", `${A}/workers/services/:script`, ({ p }) => {
    removeScript(p[1] ?? "");
    return ok(null);
  });
  route("GET", `${A}/workers/workers/:script`, ({ p }) => {
    const s = script(p[1] ?? "");
    return ok({ id: s.tag, name: s.name, created_on: s.created_on, updated_on: s.modified_on, tags: s.tags, logpush: s.logpush ?? false, observability: s.observability ?? null, tail_consumers: s.tailConsumers ?? [], subdomain: { enabled: s.workersDev, previews_enabled: s.previewsEnabled } });
  });

  // Versions and deployments
  route("POST", `${S}/versions`, async ({ req, body, p }) => {
    const s = script(p[1] ?? "");
    const { version, secrets } = await readUpload(req, body, s);
    s.versions.push(version);
    s.secrets = secrets;
    return ok({ ...versionView(s, version), startup_time_ms: 1 });
  });
  route("GET", `${S}/versions`, ({ p }) => {
    const s = script(p[1] ?? "");
    return ok({ items: [...s.versions].reverse().map((v) => versionView(s, v)) }, { result_info: { page: 1, per_page: 100, count: s.versions.length, total_count: s.versions.length } });
  });
  route("GET", `${S}/versions/:version`, ({ p }) => {
    const s = script(p[1] ?? "");
    const v = s.versions.find((x) => x.id === p[2]);
    if (!v) throw new HttpError(404, ERR.versionNotFound);
    return ok(versionView(s, v));
  });
  route("GET", `${S}/deployments`, ({ p }) => ok({ deployments: script(p[1] ?? "").deployments }));
  route("POST", `${S}/deployments`, ({ req, p, json }) => {
    const s = script(p[1] ?? "");
    const body = json() as { versions?: { version_id: string; percentage: number }[]; annotations?: Record<string, string> };
    const versions = body.versions ?? [];
    const total = versions.reduce((sum, v) => sum + v.percentage, 0);
    if (versions.length === 0 || total !== 100) throw new HttpError(400, { code: ERR.validation, message: "deployment version percentages must add up to 100" });
    const top = [...versions].sort((a, b) => b.percentage - a.percentage)[0];
    const v = s.versions.find((x) => x.id === top?.version_id);
    if (!v) throw new HttpError(404, ERR.versionNotFound);
    const d = deploy(s, v, userAgentSource(req), Object.fromEntries(Object.entries(body.annotations ?? {}).filter(([, value]) => typeof value === "string")));
    d.versions = versions;
    return ok(d);
  });

  // Settings
  route("GET", `${S}/settings`, ({ p }) => ok(settingsView(script(p[1] ?? ""))));
  route("PATCH", `${S}/settings`, async ({ req, body, p }) => {
    const s = script(p[1] ?? "");
    const form = await parseForm(req, body);
    const part = form.get("settings");
    const settings = JSON.parse(part === null ? "{}" : typeof part === "string" ? part : await part.text()) as Record<string, unknown>;
    if ("bindings" in settings) {
      const { bindings, secrets } = resolveBindings({ bindings: settings.bindings, keep_bindings: ["secret_text"] }, s);
      const current = s.versions.find((v) => v.id === s.deployedVersionId);
      if (current) {
        const v: VersionRecord = { ...current, id: randomUUID(), number: (s.versions.at(-1)?.number ?? 0) + 1, created_on: now(), bindings };
        s.versions.push(v);
        s.secrets = secrets;
        deploy(s, v, "api", { "workers/triggered_by": "settings_update" });
      }
    }
    if (typeof settings.compatibility_date === "string") s.compatibilityDate = settings.compatibility_date;
    if (Array.isArray(settings.compatibility_flags)) s.compatibilityFlags = settings.compatibility_flags as string[];
    patchScriptSettings(s, pick(settings, ["tags", "observability", "logpush", "tail_consumers"]));
    return ok(settingsView(s));
  });
  route("GET", `${S}/script-settings`, ({ p }) => {
    const s = script(p[1] ?? "");
    return ok({ logpush: s.logpush ?? false, observability: s.observability ?? null, tags: s.tags, tail_consumers: s.tailConsumers ?? null });
  });
  route("PATCH", `${S}/script-settings`, ({ p, json }) => {
    const s = script(p[1] ?? "");
    patchScriptSettings(s, json());
    return ok({ logpush: s.logpush ?? false, observability: s.observability ?? null, tags: s.tags, tail_consumers: s.tailConsumers ?? null });
  });

  // Triggers
  route("GET", `${S}/schedules`, ({ p }) => ok({ schedules: script(p[1] ?? "").crons }));
  route("PUT", `${S}/schedules`, ({ p, body }) => {
    const s = script(p[1] ?? "");
    const list = JSON.parse(body.toString("utf8") || "[]") as { cron?: string }[];
    if (!Array.isArray(list)) throw new HttpError(400, { code: ERR.validation, message: "schedules must be a list of { cron }" });
    for (const c of list) if (typeof c.cron !== "string" || c.cron.trim().split(/\s+/).length !== 5) throw new HttpError(400, { code: ERR.validation, message: `invalid cron expression: ${String(c.cron)}` });
    const stamp = now();
    s.crons = list.map((c) => ({ cron: String(c.cron), created_on: stamp, modified_on: stamp }));
    return ok({ schedules: s.crons });
  });
  route("GET", `${S}/subdomain`, ({ p }) => {
    const s = script(p[1] ?? "");
    return ok({ enabled: s.workersDev, previews_enabled: s.previewsEnabled });
  });
  route("POST", `${S}/subdomain`, ({ p, json }) => {
    const s = script(p[1] ?? "");
    const body = json();
    if (typeof body.enabled === "boolean") s.workersDev = body.enabled;
    s.previewsEnabled = typeof body.previews_enabled === "boolean" ? body.previews_enabled : s.workersDev;
    if (s.workersDev && state.subdomain === null) throw new HttpError(400, { code: 10007, message: "workers.api.error.subdomain_not_found" });
    return ok({ enabled: s.workersDev, previews_enabled: s.previewsEnabled });
  });
  route("DELETE", `${S}/subdomain`, ({ p }) => {
    const s = script(p[1] ?? "");
    s.workersDev = false;
    s.previewsEnabled = false;
    return ok({ enabled: false, previews_enabled: false });
  });

  // Secrets
  route("GET", `${S}/secrets`, ({ p }) => ok(secretBindings(script(p[1] ?? ""))));
  route("PUT", `${S}/secrets`, ({ p, json }) => {
    const s = script(p[1] ?? "");
    const body = json();
    const name = body.name;
    if (typeof name !== "string" || !name) throw new HttpError(400, { code: ERR.validation, message: "secret must have a name" });
    if (body.type !== undefined && body.type !== "secret_text") throw new HttpError(400, { code: ERR.validation, message: `unsupported secret type ${String(body.type)}` });
    if (s.bindings.some((b) => b.name === name)) throw new HttpError(400, { code: ERR.validation, message: `Binding name '${name}' already in use` });
    s.secrets.set(name, String(body.text ?? ""));
    s.modified_on = now();
    return ok({ name, type: "secret_text" });
  });
  route("PATCH", `${S}/secrets-bulk`, ({ p, json }) => {
    const s = script(p[1] ?? "");
    const secrets = (json().secrets ?? {}) as Record<string, { text?: string } | null>;
    for (const [name, value] of Object.entries(secrets)) {
      if (value === null) s.secrets.delete(name);
      else {
        if (s.bindings.some((b) => b.name === name)) throw new HttpError(400, { code: ERR.validation, message: `Binding name '${name}' already in use` });
        s.secrets.set(name, String(value.text ?? ""));
      }
    }
    s.modified_on = now();
    return ok(secretBindings(s));
  });
  route("GET", `${S}/secrets/:secret`, ({ p }) => {
    const s = script(p[1] ?? "");
    const name = decodeURIComponent(p[2] ?? "");
    if (!s.secrets.has(name)) throw new HttpError(404, ERR.secretNotFound);
    return ok({ name, type: "secret_text" });
  });
  route("DELETE", `${S}/secrets/:secret`, ({ p }) => {
    const s = script(p[1] ?? "");
    const name = decodeURIComponent(p[2] ?? "");
    if (!s.secrets.delete(name)) throw new HttpError(404, ERR.secretNotFound);
    return ok(null);
  });
  // Tails: a session per POST, reached by WebSocket (protocol trace-v1) at the url it answers.
  route("POST", `${S}/tails`, ({ p }) => {
    const name = p[1] ?? "";
    script(name);
    const id = hex(16);
    tailSessions.set(id, { script: name, sockets: new Set() });
    return ok({ id, url: `ws://127.0.0.1:${port}/tail/${id}`, expires_at: new Date(Date.now() + 6 * 3600_000).toISOString() });
  });
  route("GET", `${S}/tails`, ({ p }) => ok([...tailSessions.entries()].filter(([, t]) => t.script === p[1]).map(([id]) => ({ id }))));
  route("DELETE", `${S}/tails/:tail`, ({ p }) => {
    const session = tailSessions.get(p[2] ?? "");
    if (!session) throw new HttpError(404, { code: 10057, message: "workers.api.error.tail_not_found" });
    for (const socket of session.sockets) socket.close();
    tailSessions.delete(p[2] ?? "");
    return ok(null);
  });
  route("GET", `${S}/references`, () => ok({ services: [], durable_objects: [], dispatch_outbounds: [], tail_consumers: [] }));

  // Queues
  route("GET", `${A}/queues`, ({ query }) => {
    const names = query.getAll("name");
    const list = [...state.queues.values()].filter((q) => names.length === 0 || names.includes(q.queue_name));
    const page = Math.max(1, Number(query.get("page") ?? 1));
    const perPage = Math.max(1, Math.min(Number(query.get("per_page") ?? 100), options.queuePageSize ?? Infinity));
    const slice = list.slice((page - 1) * perPage, page * perPage);
    return ok(slice.map(queueView), { result_info: { page, per_page: perPage, count: slice.length, total_count: list.length, total_pages: Math.max(1, Math.ceil(list.length / perPage)) } });
  });
  route("POST", `${A}/queues`, ({ json }) => {
    const body = json();
    const name = body.queue_name;
    if (typeof name !== "string" || !/^[a-zA-Z0-9_-]{1,63}$/.test(name)) throw new HttpError(400, { code: 11003, message: "workers.api.error.invalid_queue_name" });
    if (queueByName(name)) {
      if (options.duplicateQueue) throw new HttpError(options.duplicateQueue.status, options.duplicateQueue.error);
      throw new HttpError(409, { ...ERR.queueExists, message: `${ERR.queueExists.message}: a queue named "${name}" already exists` });
    }
    const q: QueueRecord = { queue_id: hex(16), queue_name: name, created_on: now(), modified_on: now(), settings: { delivery_delay: 0, delivery_paused: false, message_retention_period: 345_600, ...checkQueueSettings(body.settings) }, consumers: [], messages: [] };
    state.queues.set(q.queue_id, q);
    return ok(queueView(q));
  });
  route("GET", `${A}/queues/:queue`, ({ p }) => ok(queueView(queue(p[1] ?? ""))));
  route("PATCH", `${A}/queues/:queue`, ({ p, json }) => {
    const q = queue(p[1] ?? "");
    q.settings = { ...q.settings, ...checkQueueSettings(json().settings) };
    q.modified_on = now();
    return ok(queueView(q));
  });
  route("PUT", `${A}/queues/:queue`, ({ p, json }) => {
    const q = queue(p[1] ?? "");
    q.settings = { delivery_delay: 0, delivery_paused: false, message_retention_period: 345_600, ...checkQueueSettings(json().settings) };
    q.modified_on = now();
    return ok(queueView(q));
  });
  route("DELETE", `${A}/queues/:queue`, ({ p }) => {
    const q = queue(p[1] ?? "");
    const producers = producersOf(q.queue_name);
    if (producers.length > 0) throw new HttpError(400, { ...ERR.queueInUse, message: `${ERR.queueInUse.message}: queue "${q.queue_name}" is bound by ${producers.map((x) => x.script).join(", ")}` });
    state.queues.delete(q.queue_id);
    for (const other of state.queues.values()) for (const c of other.consumers) if (c.dead_letter_queue === q.queue_name) c.dead_letter_queue = "";
    return ok(null);
  });
  route("POST", `${A}/queues/:queue/messages`, ({ p, json }) => {
    const q = queue(p[1] ?? "");
    const body = json();
    const contentType = body.content_type ?? "json";
    if (!["json", "text", "bytes", "v8"].includes(String(contentType))) throw new HttpError(400, { code: 11006, message: `workers.api.error.invalid_content_type: ${String(contentType)}` });
    if (!("body" in body)) throw new HttpError(400, { code: 11007, message: "workers.api.error.message_body_required" });
    const delay = body.delay_seconds ?? 0;
    // "delaySeconds (when sending or retrying): 24 hours" (developers.cloudflare.com/queues/platform/limits/).
    if (typeof delay !== "number" || delay < 0 || delay > 86_400) throw new HttpError(400, { code: ERR.validation, message: "delay_seconds must be from 0 to 86400" });
    q.messages.push({ id: hex(16), body: body.body, content_type: String(contentType), delay_seconds: delay, sent_on: now(), ...(delay > 0 ? { visibleAt: Date.now() + delay * 1000 } : {}) });
    return ok(null);
  });
  // Peek: the queue's first messages without leasing them; each carries a ref the purge endpoint
  // takes. Neither counts as a delivery (developers.cloudflare.com/api/resources/queues/subresources/messages/).
  const PEEK_MAX = 100;
  route("POST", `${A}/queues/:queue/messages/peek`, ({ p, json }) => {
    const q = queue(p[1] ?? "");
    const size = json().batch_size ?? 10;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > PEEK_MAX) throw new HttpError(400, { code: ERR.validation, message: `batch_size must be from 1 to ${PEEK_MAX}` });
    return ok({
      messages: [...q.messages].filter((m) => visible(q, m)).slice(0, size).map((m) => ({
        id: m.id,
        attempts: m.attempts ?? 0,
        body: m.content_type === "json" ? JSON.stringify(m.body) : String(m.body),
        metadata: { "CF-sourceMessageSource": "api", "CF-Content-Type": m.content_type },
        ref: Buffer.from(`ref:${q.queue_id}:${m.id}`).toString("base64url"),
        timestamp_ms: Date.parse(m.sent_on),
      })),
    });
  });
  route("POST", `${A}/queues/:queue/messages/purge`, ({ p, json }) => {
    const q = queue(p[1] ?? "");
    const refs = json().refs;
    if (!Array.isArray(refs)) throw new HttpError(400, { code: ERR.validation, message: "refs: expected a list of { ref }" });
    const ids = new Set(refs.map((r: { ref?: string }) => Buffer.from(String(r?.ref ?? ""), "base64url").toString().split(":")[2]));
    const before = q.messages.length;
    q.messages = q.messages.filter((m) => !ids.has(m.id));
    return ok({ purged: before - q.messages.length });
  });
  route("GET", `${A}/queues/:queue/metrics`, ({ p }) => {
    const q = queue(p[1] ?? "");
    const oldest = q.messages[0];
    return ok({
      backlog_count: q.messages.length,
      backlog_bytes: q.messages.reduce((n, m) => n + Buffer.byteLength(JSON.stringify(m.body)), 0),
      oldest_message_timestamp_ms: oldest ? Date.parse(oldest.sent_on) : 0,
    });
  });
  route("GET", `${A}/queues/:queue/consumers`, ({ p }) => ok(queue(p[1] ?? "").consumers.map(consumerView)));
  route("POST", `${A}/queues/:queue/consumers`, ({ p, json }) => {
    const q = queue(p[1] ?? "");
    const c = checkConsumer(q, json());
    q.consumers.push(c);
    q.modified_on = now();
    return ok(consumerView(c));
  });
  route("GET", `${A}/queues/:queue/consumers/:consumer`, ({ p }) => {
    const c = queue(p[1] ?? "").consumers.find((x) => x.consumer_id === p[2]);
    if (!c) throw new HttpError(404, { code: 11002, message: "workers.api.error.consumer_not_found" });
    return ok(consumerView(c));
  });
  route("PUT", `${A}/queues/:queue/consumers/:consumer`, ({ p, json }) => {
    const q = queue(p[1] ?? "");
    const existing = q.consumers.find((x) => x.consumer_id === p[2]);
    if (!existing) throw new HttpError(404, { code: 11002, message: "workers.api.error.consumer_not_found" });
    const c = checkConsumer(q, json(), existing);
    q.consumers[q.consumers.indexOf(existing)] = c;
    q.modified_on = now();
    return ok(consumerView(c));
  });
  route("DELETE", `${A}/queues/:queue/consumers/:consumer`, ({ p }) => {
    const q = queue(p[1] ?? "");
    const before = q.consumers.length;
    q.consumers = q.consumers.filter((x) => x.consumer_id !== p[2]);
    if (q.consumers.length === before) throw new HttpError(404, { code: 11002, message: "workers.api.error.consumer_not_found" });
    return ok(null);
  });

  // ---- HTTP pull consumers: pull with leases, ack and retry ------------------------------
  // As developers.cloudflare.com/queues/configuration/pull-consumers/ and the SDK's types
  // (cloudflare/resources/queues/messages: MessagePullResponse, MessageAckParams) have them:
  // - pull needs the queue's http_pull consumer; it leases up to batch_size (1..100) visible
  //   messages for visibility_timeout_ms (the consumer's setting by default; at most 12 hours),
  //   counts a delivery on each (`attempts`) and answers { messages: [{ id, attempts, body,
  //   lease_id, metadata, timestamp_ms }], message_backlog_count }; json and bytes bodies are
  //   base64 ("Your consumer will need to decode the json and bytes types").
  // - a leased message is invisible (to pull and peek) until its lease is acked (deleted),
  //   retried (visible again after delay_seconds) or runs out.
  // - a delivery that ends unacked (retried, or its lease ran out) when `attempts` has reached
  //   the consumer's max_retries is the message's last: "the message will not be re-delivered
  //   and will be deleted from the queue permanently" (or moved to its dead_letter_queue).
  // - an ack of a lease that is no longer valid is accepted (Queues is "permissive").
  // A released message keeps its place in the queue, so the stand-in's order never changes.

  /** Code not confirmed from a public source: what pull answers on a queue without an HTTP pull consumer. */
  const NO_PULL_CONSUMER = { code: 11003, message: "workers.api.error.queue_has_no_http_pull_consumer" };
  const pullConsumerOf = (q: QueueRecord) => q.consumers.find((c) => c.type === "http_pull");
  const leases = new Map<string, { q: QueueRecord; m: QueueMessageRecord }>();
  /** Deliverable now; a lease that ran out ends its delivery first. */
  function visible(q: QueueRecord, m: QueueMessageRecord, at = Date.now()): boolean {
    if (m.lease && m.lease.until <= at && endDelivery(q, m, 0) === "gone") return false;
    return !m.lease && (m.visibleAt ?? 0) <= at;
  }
  /** A delivery that ended unacked: visible again after `delay`, unless it was the message's last. */
  function endDelivery(q: QueueRecord, m: QueueMessageRecord, delaySeconds: number): "gone" | "back" {
    if (m.lease) leases.delete(m.lease.id);
    delete m.lease;
    const consumer = pullConsumerOf(q);
    if ((m.attempts ?? 0) >= (consumer?.settings.max_retries ?? 3)) {
      const at = q.messages.indexOf(m);
      if (at >= 0) q.messages.splice(at, 1);
      const dlq = consumer?.dead_letter_queue ? queueByName(consumer.dead_letter_queue) : undefined;
      if (dlq) dlq.messages.push({ ...m, id: hex(16), attempts: 0, sent_on: now() });
      return "gone";
    }
    m.visibleAt = Date.now() + delaySeconds * 1000;
    return "back";
  }
  /** The message a lease still holds (one purged, acked or whose lease ran out has none). */
  const leasedMessage = (leaseId: unknown) => {
    const found = leases.get(String(leaseId));
    return found && found.m.lease?.id === leaseId && state.queues.get(found.q.queue_id) === found.q ? found : undefined;
  };
  route("POST", `${A}/queues/:queue/messages/pull`, ({ p, json }) => {
    const q = queue(p[1] ?? "");
    const consumer = pullConsumerOf(q);
    if (!consumer) throw new HttpError(400, { ...NO_PULL_CONSUMER, message: `${NO_PULL_CONSUMER.message}: queue "${q.queue_name}" has no HTTP pull consumer` });
    const body = json();
    const size = body.batch_size ?? consumer.settings.batch_size ?? 5;
    const timeout = body.visibility_timeout_ms ?? consumer.settings.visibility_timeout_ms ?? 30_000;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > 100) throw new HttpError(400, { code: ERR.validation, message: "batch_size must be from 1 to 100" });
    if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout < 0 || timeout > 43_200_000) throw new HttpError(400, { code: ERR.validation, message: "visibility_timeout_ms must be from 0 to 43200000" });
    const at = Date.now();
    const batch = [...q.messages].filter((m) => visible(q, m, at)).slice(0, size);
    const messages = batch.map((m) => {
      m.attempts = (m.attempts ?? 0) + 1;
      m.lease = { id: Buffer.from(`lease:${hex(12)}`).toString("base64url"), until: at + timeout };
      leases.set(m.lease.id, { q, m });
      const text = m.content_type === "json" ? JSON.stringify(m.body) : String(m.body);
      return {
        id: m.id,
        attempts: m.attempts,
        body: m.content_type === "text" ? text : Buffer.from(text).toString("base64"),
        lease_id: m.lease.id,
        metadata: { "CF-sourceMessageSource": "api", "CF-Content-Type": m.content_type },
        timestamp_ms: Date.parse(m.sent_on),
      };
    });
    return ok({ messages, message_backlog_count: q.messages.length });
  });
  route("POST", `${A}/queues/:queue/messages/ack`, ({ p, json }) => {
    const q = queue(p[1] ?? "");
    if (!pullConsumerOf(q)) throw new HttpError(400, { ...NO_PULL_CONSUMER, message: `${NO_PULL_CONSUMER.message}: queue "${q.queue_name}" has no HTTP pull consumer` });
    const { acks = [], retries = [] } = json() as { acks?: { lease_id?: string }[]; retries?: { lease_id?: string; delay_seconds?: number }[] };
    if (!Array.isArray(acks) || !Array.isArray(retries)) throw new HttpError(400, { code: ERR.validation, message: "acks and retries: expected lists of { lease_id }" });
    let ackCount = 0;
    let retryCount = 0;
    const warnings: Record<string, string> = {};
    for (const a of acks) {
      const found = leasedMessage(a.lease_id);
      if (!found || found.q !== q) {
        warnings[String(a.lease_id)] = "lease not found or expired";
        continue;
      }
      leases.delete(String(a.lease_id));
      delete found.m.lease;
      const at = q.messages.indexOf(found.m);
      if (at >= 0) q.messages.splice(at, 1);
      ackCount++;
    }
    for (const r of retries) {
      const delay = r.delay_seconds ?? 0;
      if (typeof delay !== "number" || delay < 0 || delay > 86_400) throw new HttpError(400, { code: ERR.validation, message: "delay_seconds must be from 0 to 86400" });
      const found = leasedMessage(r.lease_id);
      if (!found || found.q !== q) {
        warnings[String(r.lease_id)] = "lease not found or expired";
        continue;
      }
      endDelivery(q, found.m, delay);
      retryCount++;
    }
    return ok({ ackCount, retryCount, warnings });
  });

  // ---- server ----------------------------------------------------------------------------

  const BASE = "/client/v4";
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void handle(req, res, Buffer.concat(chunks));
    });
  });

  const send = (res: http.ServerResponse, status: number, payload: unknown): void => {
    const text = JSON.stringify(payload);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const fail = (res: http.ServerResponse, status: number, errors: ApiError[]): void => send(res, status, { success: false, errors, messages: [], result: null });

  /** What a cut's `spare` is tested against: the path, the name of a queue it addresses by id, the body. */
  const describeForCut = (path: string, body: Buffer): string => {
    const queueId = /\/queues\/([^/?]+)/.exec(path)?.[1];
    return `${path} ${queueId ? (state.queues.get(queueId)?.queue_name ?? "") : ""} ${body.toString("utf8").slice(0, 2000)}`;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const path = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) : url.pathname;
    const call: ApiCall = { method, path, status: 0, ...(url.search ? { query: url.search.slice(1) } : {}) };
    calls.push(call);
    const respond = (status: number, errors: ApiError[]): void => {
      call.status = status;
      fail(res, status, errors);
    };
    try {
      call.body = await describeBody(req, body);
      if (!url.pathname.startsWith(BASE)) return respond(404, [ERR.noRoute]);
      const auth = req.headers.authorization;
      if (!auth || !/^Bearer \S+$/.test(auth)) return respond(400, [{ code: 9106, message: "Missing X-Auth-Key, X-Auth-Email or Authorization headers" }]);
      const accountMatch = /^\/accounts\/([^/]+)/.exec(path);
      if (accountMatch && accountMatch[1] !== accountId) return respond(403, [ERR.auth]);
      if (cut && method !== "GET" && !cut.spare?.test(describeForCut(path, body)) && ++cut.seen >= cut.at) return respond(400, [{ code: ERR.validation, message: `cut: mutating call ${cut.seen} refused` }]);
      const failure = failures.findIndex((f) => f.match.method.toUpperCase() === method && path.includes(f.match.pathIncludes));
      if (failure >= 0) {
        const [f] = failures.splice(failure, 1);
        if (f) return respond(f.status, [f.error]);
      }
      const found = routes.find((r) => r.method === method && r.pattern.test(path));
      if (!found) {
        unknown.push(`${method} ${path}${url.search}`);
        process.stderr.write(`[cloudflare-api stand-in] no route: ${method} ${path}${url.search}\n`);
        return respond(404, [{ code: ERR.noRoute.code, message: `Could not route to ${BASE}${path}, perhaps your object identifier is invalid?` }, { code: 7000, message: "No route for that URI" }]);
      }
      const p = (found.pattern.exec(path) ?? []).slice(1).map((s) => decodeURIComponent(s));
      const json = (): Record<string, unknown> => {
        if (body.length === 0) return {};
        try {
          return JSON.parse(body.toString("utf8")) as Record<string, unknown>;
        } catch {
          throw new HttpError(400, { code: 10026, message: "Could not parse the request body as JSON" });
        }
      };
      const reply = await found.handler({ req, body, json, query: url.searchParams, p });
      call.status = reply.status ?? 200;
      if (reply.form) {
        const r = new Response(reply.form);
        const buf = Buffer.from(await r.arrayBuffer());
        res.writeHead(call.status, { "content-type": r.headers.get("content-type") ?? "multipart/form-data" });
        res.end(buf);
        return;
      }
      if (reply.raw) {
        res.writeHead(call.status, { "content-type": reply.raw.contentType });
        res.end(reply.raw.body);
        return;
      }
      send(res, call.status, { success: true, errors: [], messages: [], result: reply.result, ...(reply.result_info ? { result_info: reply.result_info } : {}) });
    } catch (error) {
      if (error instanceof HttpError) return respond(error.status, error.errors);
      process.stderr.write(`[cloudflare-api stand-in] ${method} ${path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      respond(500, [ERR.internal]);
    }
  };

  server.on("upgrade", (req, socket: Duplex) => {
    const session = tailSessions.get(/^\/tail\/([0-9a-f]+)$/.exec(req.url ?? "")?.[1] ?? "");
    const key = req.headers["sec-websocket-key"];
    if (!session || typeof key !== "string" || !String(req.headers["sec-websocket-protocol"] ?? "").includes("trace-v1")) {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    const tail = acceptWebSocket(socket, key, "trace-v1");
    session.sockets.add(tail);
    socket.on("close", () => session.sockets.delete(tail));
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}${BASE}`,
    accountId,
    calls,
    state,
    unknown,
    queueByName,
    tailsOpen: (name) => [...tailSessions.values()].filter((t) => t.script === name).reduce((n, t) => n + t.sockets.size, 0),
    emitTail(name, event) {
      for (const t of tailSessions.values()) if (t.script === name) for (const ws of t.sockets) ws.send(JSON.stringify(event));
    },
    cutWrites(n, spare) {
      cut = n === undefined ? undefined : { at: n, seen: 0, spare };
    },
    get writes() {
      return calls.filter((c) => c.method !== "GET" && c.status > 0 && c.status < 400).length;
    },
    failNext(match, status = 500, error) {
      failures.push({ match, status, error: error ?? (status >= 500 ? { ...ERR.internal } : { code: ERR.validation, message: "injected failure" }) });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const t of tailSessions.values()) for (const ws of t.sockets) ws.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function checkScriptName(name: string): void {
  if (!/^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/.test(name)) throw new HttpError(400, { code: 10016, message: "workers.api.error.invalid_script_name" });
}

function userAgentSource(req: http.IncomingMessage): string {
  return /^wrangler\//.test(req.headers["user-agent"] ?? "") ? "wrangler" : "api";
}

async function parseForm(req: http.IncomingMessage, body: Buffer): Promise<FormData> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("multipart/form-data")) throw new HttpError(400, { code: 10001, message: "Content-Type must be multipart/form-data" });
  try {
    return await new Response(new Uint8Array(body), { headers: { "content-type": type } }).formData();
  } catch {
    throw new HttpError(400, { code: 10001, message: "Could not parse the multipart body" });
  }
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && Object.values(value).every((v) => typeof v === "string");
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in source).map((k) => [k, source[k]]));
}

/** Metadata with secret_text values replaced, for calls and stored versions. */
function redactMetadata(metadata: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(metadata.bindings)) return metadata;
  return { ...metadata, bindings: (metadata.bindings as Record<string, unknown>[]).map((b) => (b.type === "secret_text" ? { ...b, text: "[redacted]" } : b)) };
}

/** What a call recorded: JSON bodies parsed, multipart summarised, secret values redacted. */
async function describeBody(req: http.IncomingMessage, body: Buffer): Promise<unknown> {
  if (body.length === 0) return undefined;
  const type = req.headers["content-type"] ?? "";
  if (type.startsWith("multipart/form-data")) {
    const form = await parseForm(req, body);
    const parts: { name: string; type: string; size: number }[] = [];
    let metadata: unknown;
    for (const [name, value] of form.entries()) {
      const text = typeof value === "string" ? value : await value.text();
      if (name === "metadata" || name === "settings") {
        try {
          metadata = redactMetadata(JSON.parse(text) as Record<string, unknown>);
        } catch {
          metadata = text;
        }
      } else parts.push({ name, type: typeof value === "string" ? "text/plain" : value.type, size: Buffer.byteLength(text) });
    }
    return { metadata, parts };
  }
  const text = body.toString("utf8");
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      const record = parsed as Record<string, unknown>;
      if (record.type === "secret_text" && "text" in record) return { ...record, text: "[redacted]" };
      if (typeof record.secrets === "object" && record.secrets !== null)
        return { ...record, secrets: Object.fromEntries(Object.entries(record.secrets as Record<string, unknown>).map(([k, v]) => [k, v === null ? null : { ...(v as object), text: "[redacted]" }])) };
    }
    return parsed;
  } catch {
    return text;
  }
}

interface TailSocket {
  send(text: string): void;
  close(): void;
}

/**
 * The server side of a WebSocket, as much as a tail needs: the handshake, text frames out,
 * and a close. What the client sends is read only for its close frame; wrangler's tail sends
 * its one frame unmasked, which a strict server library rejects and Cloudflare accepts.
 */
function acceptWebSocket(socket: Duplex, key: string, protocol: string): TailSocket {
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
  // Server frames are unmasked; a tail event is well under 64 KiB.
  const frame = (opcode: number, payload: Buffer): Buffer => {
    if (payload.length >= 65_536) throw new Error("tail event too large for the stand-in");
    const head = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
    return Buffer.concat([head, payload]);
  };
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
  };
  socket.on("data", (data: Buffer) => {
    if (((data[0] ?? 0) & 0x0f) === 0x8) close();
  });
  socket.on("error", () => {});
  return {
    send: (text) => {
      if (!closed) socket.write(frame(0x1, Buffer.from(text, "utf8")));
    },
    close,
  };
}
