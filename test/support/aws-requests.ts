import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

/**
 * AWS's own description of its APIs (botocore's service models, which moto ships with) turned
 * into a decoder for the HTTP requests the AWS SDK sends: which operation a request is, and its
 * input as the model names it, for each protocol twelve's services speak. aws-validation.ts
 * then says what in that input AWS would refuse.
 */
export interface AwsCall {
  /** The signing name from the request's credential scope: lambda, sqs, scheduler, logs, iam, sts. */
  service: string;
  operation: string;
  input: Record<string, unknown>;
  region: string;
}

export interface RawRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

// ---- the models ----

export interface Shape {
  type: string;
  members?: Record<string, Member>;
  member?: Member;
  key?: Member;
  value?: Member;
  required?: string[];
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  payload?: string;
  flattened?: boolean;
  document?: boolean;
}
export interface Member {
  shape: string;
  location?: "uri" | "querystring" | "header" | "headers" | "statusCode";
  locationName?: string;
  jsonvalue?: boolean;
}
interface Operation {
  name: string;
  http: { method: string; requestUri: string };
  input?: { shape: string };
}
export interface Model {
  metadata: { protocol: string; targetPrefix?: string; endpointPrefix: string };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

let dataDir: string | undefined;
/** botocore's data folder: BOTOCORE_DATA, else found through the Python that runs moto. */
function botocoreData(): string {
  if (dataDir) return dataDir;
  const fromEnv = process.env.BOTOCORE_DATA;
  try {
    dataDir = fromEnv ?? execFileSync("python3", ["-c", "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))"], { encoding: "utf8" }).trim();
  } catch (error) {
    throw new Error(`botocore's service models not found (${(error as Error).message.split("\n")[0]}): pip install 'moto[server]==5.2.1' brings them, or set BOTOCORE_DATA`);
  }
  return dataDir;
}

const models = new Map<string, Model>();
export function serviceModel(service: string): Model {
  const cached = models.get(service);
  if (cached) return cached;
  const dir = path.join(botocoreData(), service);
  // The newest API version: Lambda also keeps its 2014 one.
  const version = fs.readdirSync(dir).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort().at(-1);
  if (!version) throw new Error(`no service model for ${service} in ${dir}`);
  const file = path.join(dir, version, "service-2.json");
  const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : zlib.gunzipSync(fs.readFileSync(`${file}.gz`)).toString("utf8");
  const model = JSON.parse(text) as Model;
  models.set(service, model);
  return model;
}

// ---- decoding: one function per protocol ----

const header = (req: RawRequest, name: string): string | undefined => {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(",") : value;
};

/** The operation and input of an AWS SDK request, or why it could not be read. */
export function decodeAwsRequest(req: RawRequest): AwsCall | { undecoded: string } {
  const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(header(req, "authorization") ?? "");
  if (!scope) return { undecoded: `${req.method} ${req.url}: no SigV4 credential scope to tell the service` };
  const [, region = "", service = ""] = scope;
  const model = serviceModel(service);
  const decoded = (() => {
    switch (model.metadata.protocol) {
      case "json":
        return decodeJson(model, req);
      case "query":
        return decodeQuery(model, req);
      case "rest-json":
        return decodeRestJson(model, req);
      default:
        return { undecoded: `protocol ${model.metadata.protocol} not handled` };
    }
  })();
  if ("undecoded" in decoded) return { undecoded: `${service} ${req.method} ${req.url}: ${decoded.undecoded}` };
  return { service, region, ...decoded };
}

type Decoded = { operation: string; input: Record<string, unknown> } | { undecoded: string };

/** JSON 1.0/1.1 (SQS, CloudWatch Logs): X-Amz-Target names the operation, the body is the input. */
function decodeJson(model: Model, req: RawRequest): Decoded {
  const target = header(req, "x-amz-target") ?? "";
  const [prefix, operation = ""] = target.split(".");
  if (prefix !== model.metadata.targetPrefix || !model.operations[operation]) return { undecoded: `unknown X-Amz-Target ${target}` };
  const body = req.body.length ? (JSON.parse(req.body.toString("utf8")) as unknown) : {};
  return { operation, input: fromJson(model, model.operations[operation].input?.shape, body) as Record<string, unknown> };
}

/** Query (IAM, STS): a form body with Action, Version and the input flattened into dotted keys. */
function decodeQuery(model: Model, req: RawRequest): Decoded {
  const form = new URLSearchParams(req.method === "GET" ? (req.url.split("?")[1] ?? "") : req.body.toString("utf8"));
  const operation = form.get("Action") ?? "";
  if (!model.operations[operation]) return { undecoded: `unknown Action ${operation}` };
  const shape = model.operations[operation].input?.shape;
  return { operation, input: (shape ? fromQuery(model, shape, "", form) : undefined) as Record<string, unknown> ?? {} };
}

/** REST-JSON (Lambda, Scheduler): method and path pick the operation; members live in the path, query, headers or body. */
function decodeRestJson(model: Model, req: RawRequest): Decoded {
  const url = new URL(req.url, "http://aws");
  const segments = trimSlash(url.pathname).split("/");
  let best: { op: Operation; labels: Record<string, string>; literals: number } | undefined;
  for (const op of Object.values(model.operations)) {
    if (op.http.method !== req.method) continue;
    const [template = "", fixedQuery] = op.http.requestUri.split("?");
    if (fixedQuery && !fixedQuery.split("&").every((pair) => { const [k = "", v] = pair.split("="); return v === undefined ? url.searchParams.has(k) : url.searchParams.get(k) === v; })) continue;
    const match = matchTemplate(trimSlash(template).split("/"), segments);
    if (match && (!best || match.literals > best.literals)) best = { op, ...match };
  }
  if (!best) return { undecoded: "no operation has this method and path" };
  const { op, labels } = best;
  const input: Record<string, unknown> = {};
  const shape = op.input ? model.shapes[op.input.shape] : undefined;
  if (!shape) return { operation: op.name, input };
  const bodyMembers: Record<string, Member> = {};
  for (const [name, member] of Object.entries(shape.members ?? {})) {
    const wire = member.locationName ?? name;
    const type = model.shapes[member.shape]?.type ?? "string";
    if (member.location === "uri") {
      if (labels[wire] !== undefined) input[name] = scalar(type, labels[wire]);
    } else if (member.location === "querystring") {
      if (type === "list") {
        const all = url.searchParams.getAll(wire);
        if (all.length) input[name] = all.map((v) => scalar(model.shapes[model.shapes[member.shape]?.member?.shape ?? ""]?.type ?? "string", v));
      } else if (type !== "map" && url.searchParams.has(wire)) input[name] = scalar(type, url.searchParams.get(wire) ?? "");
    } else if (member.location === "header") {
      const value = header(req, wire);
      if (value !== undefined && !member.jsonvalue) input[name] = scalar(type, value);
    } else if (!member.location) {
      bodyMembers[name] = member;
    }
  }
  if (shape.payload) {
    const member = shape.members?.[shape.payload];
    const payloadShape = model.shapes[member?.shape ?? ""];
    if (req.body.length) input[shape.payload] = payloadShape?.type === "blob" ? req.body : fromJson(model, member?.shape, JSON.parse(req.body.toString("utf8")));
  } else if (req.body.length) {
    const body = JSON.parse(req.body.toString("utf8")) as Record<string, unknown>;
    Object.assign(input, fromJson(model, undefined, body, bodyMembers));
  }
  return { operation: op.name, input };
}

const trimSlash = (p: string) => (p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p);

function matchTemplate(template: string[], segments: string[]): { labels: Record<string, string>; literals: number } | undefined {
  const labels: Record<string, string> = {};
  let literals = 0;
  for (let i = 0; i < template.length; i++) {
    const t = template[i] ?? "";
    const label = /^\{([^}+]+)(\+?)\}$/.exec(t);
    if (label?.[2]) {
      if (i >= segments.length) return undefined;
      labels[label[1] ?? ""] = segments.slice(i).map(decodeURIComponent).join("/");
      return { labels, literals };
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (label) labels[label[1] ?? ""] = decodeURIComponent(segment);
    else if (t === segment) literals++;
    else return undefined;
  }
  return template.length === segments.length ? { labels, literals } : undefined;
}

function scalar(type: string, text: string): unknown {
  if (type === "integer" || type === "long" || type === "double" || type === "float") return Number(text);
  if (type === "boolean") return text === "true";
  return text;
}

/** A JSON value with its wire names (locationName) turned into the model's member names. */
function fromJson(model: Model, shapeName: string | undefined, value: unknown, members?: Record<string, Member>): unknown {
  const shape = shapeName ? model.shapes[shapeName] : undefined;
  const fields = members ?? (shape?.type === "structure" ? shape.members : undefined);
  if (fields && value && typeof value === "object" && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    const byWire = new Map(Object.entries(fields).map(([name, m]) => [m.locationName ?? name, [name, m] as const]));
    for (const [key, v] of Object.entries(value)) {
      const found = byWire.get(key);
      // A member the model does not know is kept under its wire name: the validator names it.
      out[found?.[0] ?? key] = found ? fromJson(model, found[1].shape, v) : v;
    }
    return out;
  }
  if (shape?.type === "list" && Array.isArray(value)) return value.map((v) => fromJson(model, shape.member?.shape, v));
  if (shape?.type === "map" && value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromJson(model, shape.value?.shape, v)]));
  return value;
}

/** A query input rebuilt from its dotted keys (Tags.member.1.Key), shape by shape. */
function fromQuery(model: Model, shapeName: string, prefix: string, form: URLSearchParams): unknown {
  const shape = model.shapes[shapeName];
  if (!shape) return undefined;
  const has = (p: string) => [...form.keys()].some((k) => k === p || k.startsWith(`${p}.`));
  if (shape.type === "structure") {
    const out: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(shape.members ?? {})) {
      const key = prefix ? `${prefix}.${member.locationName ?? name}` : member.locationName ?? name;
      if (!has(key)) continue;
      const value = fromQuery(model, member.shape, key, form);
      if (value !== undefined) out[name] = value;
    }
    return out;
  }
  if (shape.type === "list") {
    // An empty list travels as "Name=".
    if (form.get(prefix) === "") return [];
    const base = shape.flattened ? prefix : `${prefix}.${shape.member?.locationName ?? "member"}`;
    const items: unknown[] = [];
    for (let i = 1; has(`${base}.${i}`); i++) items.push(fromQuery(model, shape.member?.shape ?? "", `${base}.${i}`, form));
    return items;
  }
  if (shape.type === "map") {
    const base = shape.flattened ? prefix : `${prefix}.entry`;
    const out: Record<string, unknown> = {};
    for (let i = 1; has(`${base}.${i}`); i++) {
      out[String(form.get(`${base}.${i}.${shape.key?.locationName ?? "key"}`))] = fromQuery(model, shape.value?.shape ?? "", `${base}.${i}.${shape.value?.locationName ?? "value"}`, form);
    }
    return out;
  }
  const text = form.get(prefix);
  return text === null ? undefined : scalar(shape.type, text);
}
