import type { ProcessMeta } from "./types.ts";

/** The process's default export, checked for the handler its type needs. */
export function requireHandler<K extends "fetch" | "queue" | "scheduled">(
  mod: unknown,
  key: K,
  meta: ProcessMeta,
): Record<K, (...args: never[]) => unknown> {
  const candidate = (mod as { default?: unknown } | undefined)?.default ?? mod;
  if (!candidate || typeof (candidate as Record<string, unknown>)[key] !== "function") {
    const shape = { fetch: "a Hono app or { fetch(request, env, ctx) }", queue: "defineWorker(...) or { async queue(batch, env, ctx) {} }", scheduled: "defineClock(...) or { async scheduled(controller, env, ctx) {} }" }[key];
    throw new Error(`process "${meta.process}" (${meta.entry}): the default export has no ${key}() handler; export default ${shape}`);
  }
  return candidate as Record<K, (...args: never[]) => unknown>;
}
