/**
 * What deploy would do: a pure diff of the resources a formation asks for and the ones read
 * back from the platform, in the same shape. Platforms say per kind of resource which fields
 * are settings to compare and how (FieldRules); the rest is the same for every platform.
 */

/** One setting that differs between the formation and what is deployed. */
export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
  /** How people see it when its values say nothing to them (a policy, a hash): "policy". */
  summary?: string;
}

/** Anything a platform deploys, identified by kind and name; its other fields are its settings. */
export interface Resource {
  kind: string;
  name: string;
}

type ChangeOf<R extends Resource> =
  | { action: "create"; kind: R["kind"]; name: string; resource: R }
  /** `current`: the resource as deployed (with the handles the platform needs to change it). */
  | { action: "update"; kind: R["kind"]; name: string; resource: R; current: R; fields: FieldChange[] }
  | { action: "delete"; kind: R["kind"]; name: string; resource: R; keptBecause?: string };

/** A change of one resource; over a union of resources, a union that narrows on `kind`. */
export type Change<R extends Resource = Resource> = R extends Resource ? ChangeOf<R> : never;

export interface Plan<R extends Resource = Resource> {
  changes: Change<R>[];
  unchanged: number;
}

/** How a kind of resource is compared. */
export interface FieldRules {
  /** Fields that are inputs to deploy or handles read back (a zip's path, a queue's URL): never compared. */
  ignore?: readonly string[];
  /** Maps compared key by key ("environment.LOG_LEVEL"); the values of secret keys are never shown. */
  maps?: readonly string[];
  /** How a field is called in a plan ("codeSha256" is "code"). */
  names?: Readonly<Record<string, string>>;
  /** Fields shown to people by a word, not their values (a policy document, a hash): field → word. */
  summaries?: Readonly<Record<string, string>>;
}

/** FieldRules that name only fields the resource has. */
export function fieldRules<R extends Resource>(rules: {
  ignore?: (keyof R & string)[];
  maps?: (keyof R & string)[];
  names?: Partial<Record<keyof R & string, string>>;
  summaries?: Partial<Record<keyof R & string, string>>;
}): FieldRules {
  return rules as FieldRules;
}

export interface PlanOptions<R extends Resource> {
  /** Each kind's rules. */
  rules: { readonly [K in R["kind"]]: FieldRules };
  /** Names of variables whose values never appear in a plan. */
  secrets: string[];
  /** Why a deployed resource that would go is kept instead (a queue holding messages); unless forced. */
  keep?(deployed: R): string | undefined;
  force?: boolean;
}

/**
 * The plan: a pure function of what the formation asks for and what is deployed (`null` is
 * "none"; a field the platform would not tell is `undefined` and not compared).
 */
export function planChanges<R extends Resource>(desired: R[], deployed: R[], options: PlanOptions<R>): Plan<R> {
  const key = (r: R) => `${r.kind}:${r.name}`;
  const existing = new Map(deployed.map((r) => [key(r), r]));
  const wanted = new Set(desired.map(key));
  const changes: ChangeOf<R>[] = [];
  let unchanged = 0;

  for (const resource of desired) {
    const current = existing.get(key(resource));
    if (!current) {
      changes.push({ action: "create", kind: resource.kind, name: resource.name, resource });
      continue;
    }
    const fields = diff(resource, current, options.rules[resource.kind as R["kind"]], options.secrets);
    if (fields.length) changes.push({ action: "update", kind: resource.kind, name: resource.name, resource, current, fields });
    else unchanged++;
  }
  for (const resource of deployed) {
    if (wanted.has(key(resource))) continue;
    const keptBecause = options.force ? undefined : options.keep?.(resource);
    changes.push({ action: "delete", kind: resource.kind, name: resource.name, resource, ...(keptBecause ? { keptBecause } : {}) });
  }
  // ChangeOf<R> and the distributed Change<R> are the same set of values; TypeScript cannot
  // see it for a generic R.
  return { changes: changes as Change<R>[], unchanged };
}

/** Why a queue that would go stays: it holds messages, or how many it holds is unknown (null). */
export function whyKept(depth: number | null | undefined): string | undefined {
  if (depth === null) return "its backlog could not be read; deploy --force deletes it";
  if (depth) return `it holds ${depth} message${depth === 1 ? "" : "s"}; deploy --force deletes it`;
  return undefined;
}

/** The changes deploy will make: all but deletions kept back (a queue still holding messages). */
export function toApply<R extends Resource>(plan: Plan<R>): Change<R>[] {
  return plan.changes.filter((c) => !(c.action === "delete" && c.keptBecause));
}

function diff(desired: Resource, deployed: Resource, rules: FieldRules, secrets: string[]): FieldChange[] {
  const fields: FieldChange[] = [];
  for (const [field, want] of Object.entries(desired)) {
    if (field === "kind" || field === "name" || rules.ignore?.includes(field)) continue;
    const have = (deployed as unknown as Record<string, unknown>)[field];
    // undefined: the platform would not tell (null is how "none" reads back).
    if (have === undefined) continue;
    if (rules.maps?.includes(field)) {
      fields.push(...diffMap(field, want as Record<string, string>, have as Record<string, string>, secrets));
      continue;
    }
    const summary = rules.summaries?.[field];
    if (!same(want, have)) fields.push({ field: rules.names?.[field] ?? field, from: have, to: want, ...(summary ? { summary } : {}) });
  }
  return fields;
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

export const SYMBOL = { create: "+", update: "~", delete: "-" } as const;

/** The plan as people read it: one line per change, the fields that change, a summary. */
export function formatPlan(plan: Plan): string[] {
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
export function planMarkdown(plan: Plan): string {
  const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");
  const rows = plan.changes.map((change) => {
    return `| ${SYMBOL[change.action]} | ${change.kind} | \`${change.name}\` | ${cell(detail(change) ?? change.action)} |`;
  });
  const counts = formatPlan(plan).at(-1) ?? "";
  return [...(rows.length ? ["| | kind | name | change |", "| --- | --- | --- | --- |", ...rows, ""] : []), `**${counts}**`].join("\n");
}

/** The plan as --json gives it: stable fields, documented in the README. */
export function planJson(plan: Plan) {
  return {
    changes: plan.changes.map((c) => ({
      action: c.action,
      kind: c.kind,
      name: c.name,
      ...(c.action === "update" ? { fields: c.fields.map(({ field, from, to }) => ({ field, from, to })) } : {}),
      ...(c.action === "delete" && c.keptBecause ? { keptBecause: c.keptBecause } : {}),
    })),
    unchanged: plan.unchanged,
  };
}

/** What more a change says than its kind and name: the fields an update changes, or why a deletion is kept. */
function detail(change: Change): string | undefined {
  if (change.action === "update") return change.fields.map(describeField).join(", ");
  if (change.action === "delete" && change.keptBecause) return `kept: ${change.keptBecause}`;
  return undefined;
}

function describeField(change: FieldChange): string {
  if (change.summary) return change.summary;
  const show = (v: unknown) => (v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));
  return `${change.field} ${show(change.from)} → ${show(change.to)}`;
}
