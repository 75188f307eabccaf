import os from "node:os";
import path from "node:path";

/**
 * The environment for a child Node process with V8's compile cache on (kept in the OS's temp
 * folder, as twelve's own command keeps it): wrangler loads ~10 MB of JavaScript on every run,
 * a Cloudflare dev host loads miniflare's few MB, and each run after the first compiles none
 * of it again. A NODE_COMPILE_CACHE already set is the user's and is kept.
 */
export function withCompileCache(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.NODE_COMPILE_CACHE ? env : { ...env, NODE_COMPILE_CACHE: path.join(os.tmpdir(), "node-compile-cache") };
}
