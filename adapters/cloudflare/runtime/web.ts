import { requireHandler } from "../../../src/runtime/module.ts";
import type { ProcessMeta } from "../../../src/runtime/types.ts";
import { installQueueTransport } from "./send.ts";

type Fetch = (request: Request, env: Record<string, unknown>, ctx: unknown) => Response | Promise<Response>;

/** A web process on Workers is the process itself; twelve only wires send(). */
export function webWorker(mod: unknown, meta: ProcessMeta) {
  const app = requireHandler(mod, "fetch", meta) as unknown as { fetch: Fetch };
  const bind = installQueueTransport(meta);
  return {
    fetch(request: Request, env: Record<string, unknown>, ctx: unknown) {
      bind(env);
      return app.fetch(request, env, ctx);
    },
  };
}
