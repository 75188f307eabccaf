import { usageError } from "../errors.ts";
import type { Formation } from "../formation/types.ts";

/**
 * The values of the formation's secrets, from the deploying environment. A missing one fails
 * before any call to a cloud, naming every secret that is missing.
 */
export function secretValues(formation: Formation, env: NodeJS.ProcessEnv): Record<string, string> {
  const missing = formation.secrets.filter((name) => env[name] === undefined);
  if (missing.length) {
    throw usageError(`secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not set in the deploying environment`, `Export ${missing[0]}=... (in CI: from the repository's secrets) and deploy again.`);
  }
  return Object.fromEntries(formation.secrets.map((name) => [name, env[name] as string]));
}
