import * as z from "zod/mini";
import { configSchema } from "./schema.ts";

/** The config's shape with its required keys optional: what is left once the wrong parts are cut out. */
const lenientSchema = z.partial(configSchema, { app: true, processes: true });
export type Salvaged = z.infer<typeof lenientSchema>;

/** Cutting a part out can uncover another (a required key now missing): a few rounds settle it. */
const ROUNDS = 6;

/**
 * The parts of a config that are right, when the whole is not: each wrong value is cut out
 * (a process's key, a top-level key, a variable of `env`), and a part left without a key it
 * needs goes whole (a process without its type). The checks after the shape's then run on
 * what is left, so one run reports a misspelt key and a reserved variable name together.
 * Undefined when nothing can be kept (the default export is not an object).
 */
export function salvage(raw: unknown): Salvaged | undefined {
  if (!isPlainObject(raw)) return undefined;
  const input = copy(raw) as Record<string, unknown>;
  for (let round = 0; round < ROUNDS; round++) {
    const parsed = lenientSchema.safeParse(input);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      if (!cut(input, issue)) return undefined;
    }
  }
  return undefined;
}

/** Cuts out what `issue` is about; false when that is the whole config. */
function cut(input: Record<string, unknown>, issue: z.core.$ZodIssue): boolean {
  if (issue.code === "unrecognized_keys") {
    const holder = at(input, issue.path);
    if (isPlainObject(holder)) for (const key of issue.keys) delete holder[key];
    return true;
  }
  // processes.<name>.<key> at the deepest: a process's env goes whole rather than one name of it.
  let path = issue.path.slice(0, issue.path[0] === "processes" ? 3 : 2);
  // Inside a list (secrets, compatibilityFlags) the list goes whole: cutting one item would
  // renumber the others, and their problems would name the wrong index.
  const list = path.findIndex((_, i) => Array.isArray(at(input, path.slice(0, i + 1))));
  if (list >= 0) path = path.slice(0, list + 1);
  // A required key already missing: its holder goes.
  if (at(input, path) === undefined) path = path.slice(0, -1);
  if (path.length === 0) return false;
  const holder = at(input, path.slice(0, -1));
  if (isPlainObject(holder)) delete holder[path[path.length - 1] as string];
  return true;
}

function at(value: unknown, path: readonly PropertyKey[]): unknown {
  let here = value;
  for (const key of path) here = isPlainObject(here) || Array.isArray(here) ? (here as Record<PropertyKey, unknown>)[key] : undefined;
  return here;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Objects and lists copied, so that cutting leaves the config as the user's code made it. */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
  return value;
}
