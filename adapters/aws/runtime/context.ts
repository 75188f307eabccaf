import type { Env, ExecutionContext, ProcessMeta } from "../../../src/runtime/types.ts";

/** `env` for process code: the formation's variables and secrets, not all of process.env. */
export function processEnv(meta: ProcessMeta): Env {
  const env: Env = {};
  for (const key of meta.envKeys) env[key] = process.env[key];
  return env;
}

/**
 * Lambda freezes the process when the handler returns, so work handed to waitUntil() is
 * awaited before the result goes back (unlike Workers, where it runs after the response).
 */
export function lambdaExecutionContext(): { ctx: ExecutionContext; settle(): Promise<void> } {
  const pending: Promise<unknown>[] = [];
  return {
    ctx: {
      waitUntil: (promise) => void pending.push(promise),
      passThroughOnException: () => {},
    },
    settle: async () => {
      const results = await Promise.allSettled(pending);
      for (const r of results) if (r.status === "rejected") console.error("waitUntil() task failed:", r.reason);
    },
  };
}
