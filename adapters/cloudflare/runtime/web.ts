import { requireHandler } from "../../../src/runtime/module.ts";
import type { ProcessMeta } from "../../../src/runtime/types.ts";
import { DEV_BROKER_BINDING, installQueueTransport } from "./send.ts";

type Fetch = (request: Request, env: Record<string, unknown>, ctx: unknown) => Response | Promise<Response>;

/**
 * Under twelve dev, a request with this header asks the web Worker how many requests it is
 * serving (its handler has not answered yet), for the dashboard; deployed, no such request is
 * answered (twelve dev's broker binding is not there) and nothing is counted.
 */
export const DEV_IN_FLIGHT_HEADER = "x-twelve-dev-in-flight";

/** A web process on Workers is the process itself; twelve only wires send(). */
export function webWorker(mod: unknown, meta: ProcessMeta) {
  const app = requireHandler(mod, "fetch", meta) as unknown as { fetch: Fetch };
  const bind = installQueueTransport(meta);
  let inFlight = 0;
  return {
    fetch(request: Request, env: Record<string, unknown>, ctx: unknown) {
      bind(env);
      if (env[DEV_BROKER_BINDING] === undefined) return app.fetch(request, env, ctx);
      if (request.headers.has(DEV_IN_FLIGHT_HEADER)) return Response.json({ inFlight });
      inFlight++;
      let answer: Response | Promise<Response>;
      try {
        answer = app.fetch(request, env, ctx);
      } catch (error) {
        inFlight--;
        throw error;
      }
      if (!(answer instanceof Promise)) return inFlight--, answer;
      return answer.finally(() => inFlight--);
    },
  };
}
