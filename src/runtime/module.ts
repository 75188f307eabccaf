import { isStandardSchema, registerSchema } from "./schema.ts";
import type { ProcessMeta } from "./types.ts";

export type HandlerKey = "fetch" | "queue" | "scheduled";

/** The handler each process type must export, and the shapes that have it. */
export const HANDLERS = {
  web: { key: "fetch", shape: "a Hono app or { fetch(request, env, ctx) {} }" },
  worker: { key: "queue", shape: "defineWorker(async (body) => {}) or { async queue(batch, env, ctx) {} }" },
  clock: { key: "scheduled", shape: "defineClock(async (controller) => {}) or { async scheduled(controller, env, ctx) {} }" },
} as const satisfies Record<ProcessMeta["type"], { key: HandlerKey; shape: string }>;

/**
 * "process web: src/web.ts has no fetch handler: export default ...". The words carry no quote
 * nor backslash: twelve dev finds the sentence again in whatever text a failed start leaves
 * (workerd's error arrives JSON-escaped inside miniflare's), see missingHandlerIn().
 */
export function missingHandlerMessage(process: string, entry: string, type: ProcessMeta["type"]): string {
  const { key, shape } = HANDLERS[type];
  return `process ${process}: ${entry} has no ${key} handler: export default ${shape}`;
}

const MISSING_HANDLER = /process [a-z][a-z0-9-]*: [^\n"\\]*? has no (?:fetch|queue|scheduled) handler: export default [^\n"\\]*/;

/** The missing-handler sentence in an error's text (its message, stack or a runtime's log), if any. */
export function missingHandlerIn(text: string): string | undefined {
  return MISSING_HANDLER.exec(text)?.[0].trimEnd();
}

/** The process's default export, checked for the handler its type needs. */
export function requireHandler<K extends HandlerKey>(mod: unknown, key: K, meta: ProcessMeta): Record<K, (...args: never[]) => unknown> {
  const candidate = (mod as { default?: unknown } | undefined)?.default ?? mod;
  if (!candidate || typeof (candidate as Record<string, unknown>)[key] !== "function") {
    throw new Error(missingHandlerMessage(meta.process, meta.entry, meta.type));
  }
  // A worker's defineWorker({ schema }): its own sends (to itself) are checked before they leave.
  const schema = (candidate as { schema?: unknown }).schema;
  if (meta.type === "worker" && isStandardSchema(schema)) registerSchema(meta.process, schema);
  return candidate as Record<K, (...args: never[]) => unknown>;
}
