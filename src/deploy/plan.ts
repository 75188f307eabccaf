
/** One setting that differs between the formation and what is deployed. */
export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** Anything a platform deploys, identified by kind and name; its other fields are its settings. */
export interface Resource {
  kind: string;
  name: string;
}

export type Change<R extends Resource = Resource> =
  | { action: "create"; kind: R["kind"]; name: string; resource: R }
  | { action: "update"; kind: R["kind"]; name: string; resource: R; fields: FieldChange[] }
  | { action: "delete"; kind: R["kind"]; name: string; resource: R; keptBecause?: string };

export interface Plan<R extends Resource = Resource> {
  changes: Change<R>[];
  unchanged: number;
}

export interface PlanOptions {
  /** Names of variables whose values never appear in a plan. */
  secrets: string[];
  /**
   * Messages waiting in each deployed queue, by name: such a queue is kept unless forced, and
   * so is one whose depth could not be read (null).
   */
  queueDepth?: Record<string, number | null>;
  force?: boolean;
}

/** Fields that are inputs to deploy, not state to compare. */
const NOT_COMPARED = new Set(["kind", "name", "zipPath", "configPath", "process"]);

/**
 * What deploy would do: a pure function of the resources the formation asks for and the ones
 * read back from the platform (same shape; `null` is "none", and a field AWS would not tell is
 * `undefined` and not compared).
 */
export function planChanges<R extends Resource>(desired: R[], deployed: R[], options: PlanOptions): Plan<R> {
  const key = (r: R) => `${r.kind}:${r.name}`;
  const existing = new Map(deployed.map((r) => [key(r), r]));
  const wanted = new Set(desired.map(key));
  const changes: Change<R>[] = [];
  let unchanged = 0;

  for (const resource of desired) {
    const current = existing.get(key(resource));
    if (!current) {
      changes.push({ action: "create", kind: resource.kind, name: resource.name, resource });
      continue;
    }
    const fields = diff(resource, current, options.secrets);
    if (fields.length) changes.push({ action: "update", kind: resource.kind, name: resource.name, resource, fields });
    else unchanged++;
  }
  for (const resource of deployed) {
    if (wanted.has(key(resource))) continue;
    const keptBecause = options.force || resource.kind !== "queue" ? undefined : whyKept(options.queueDepth?.[resource.name]);
    changes.push({ action: "delete", kind: resource.kind, name: resource.name, resource, ...(keptBecause ? { keptBecause } : {}) });
  }
  return { changes, unchanged };
}

/** Why a queue that would go stays: it holds messages, or how many it holds is unknown (null). */
function whyKept(depth: number | null | undefined): string | undefined {
  if (depth === null) return "its backlog could not be read; deploy --force deletes it";
  if (depth) return `it holds ${depth} message${depth === 1 ? "" : "s"}; deploy --force deletes it`;
  return undefined;
}

/** The changes deploy will make: all but deletions kept back (a queue still holding messages). */
export function toApply<R extends Resource>(plan: Plan<R>): Change<R>[] {
  return plan.changes.filter((c) => !(c.action === "delete" && c.keptBecause));
}

function diff(desired: Resource, deployed: Resource, secrets: string[]): FieldChange[] {
  const fields: FieldChange[] = [];
  for (const [field, want] of Object.entries(desired)) {
    if (NOT_COMPARED.has(field)) continue;
    const have = (deployed as unknown as Record<string, unknown>)[field];
    // undefined: AWS would not tell (null is how "none" reads back).
    if (have === undefined) continue;
    if (field === "environment") {
      fields.push(...diffEnvironment(want as Record<string, string>, have as Record<string, string>, secrets));
      continue;
    }
    if (field === "tags") {
      fields.push(...diffMap("tags", want as Record<string, string>, have as Record<string, string>, []));
      continue;
    }
    if (!same(want, have)) fields.push({ field: field === "codeSha256" ? "code" : field, from: have, to: want });
  }
  return fields;
}

function diffEnvironment(want: Record<string, string>, have: Record<string, string>, secrets: string[]): FieldChange[] {
  return diffMap("environment", want, have, secrets);
}

/** Per-key changes of a map; values of secret keys are never shown. */
function diffMap(field: string, want: Record<string, string>, have: Record<string, string>, secrets: string[]): FieldChange[] {
  const mask = (key: string, value: string | undefined) => (value === undefined ? undefined : secrets.includes(key) ? "(secret)" : value);
  const keys = [...new Set([...Object.keys(want), ...Object.keys(have)])].sort();
  return keys
    .filter((k) => want[k] !== have[k])
    .map((k) => ({ field: `${field}.${k}`, from: mask(k, have[k]), to: mask(k, want[k]) }));
}

/** Deep equality of JSON-like values; policy documents compare by meaning, not key order. */
function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with object keys sorted: equal values give equal text. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

const SYMBOL = { create: "+", update: "~", delete: "-" } as const;

/** The plan as people read it: one line per change, the fields that change, a summary. */
export function formatPlan(plan: Plan<Resource>): string[] {
  const lines = plan.changes.map((change) => {
    const head = `  ${SYMBOL[change.action]} ${change.kind} ${change.name}`;
    const more = detail(change);
    if (!more) return head;
    return change.action === "update" ? `${head}: ${more}` : `${head} (${more})`;
  });
  const applied = toApply(plan);
  const count = (action: Change["action"]) => applied.filter((c) => c.action === action).length;
  const kept = plan.changes.length - applied.length;
  lines.push(
    `${count("create")} to create, ${count("update")} to update, ${count("delete")} to delete${kept ? `, ${kept} kept` : ""}, ${plan.unchanged} unchanged.`,
  );
  return lines;
}

/** The plan as Markdown, for a CI job's summary: a table of the changes and the counts. */
export function planMarkdown(plan: Plan<Resource>): string {
  const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");
  const rows = plan.changes.map((change) => {
    return `| ${SYMBOL[change.action]} | ${change.kind} | \`${change.name}\` | ${cell(detail(change) ?? change.action)} |`;
  });
  const counts = formatPlan(plan).at(-1) ?? "";
  return [...(rows.length ? ["| | kind | name | change |", "| --- | --- | --- | --- |", ...rows, ""] : []), `**${counts}**`].join("\n");
}

/** What more a change says than its kind and name: the fields an update changes, or why a deletion is kept. */
function detail(change: Change): string | undefined {
  if (change.action === "update") return change.fields.map(describeField).join(", ");
  if (change.action === "delete" && change.keptBecause) return `kept: ${change.keptBecause}`;
  return undefined;
}

function describeField(change: FieldChange): string {
  if (change.field === "code") return "code";
  const show = (v: unknown) => (v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));
  if (change.field === "policy") return "policy";
  if (change.field === "secrets") return "secret values";
  return `${change.field} ${show(change.from)} → ${show(change.to)}`;
}
