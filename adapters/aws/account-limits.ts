import { usageError, type TwelveError } from "../../src/errors.ts";
import { configError, type Problem } from "../../src/formation/problems.ts";
import type { AwsClients } from "./client.ts";

// What AWS refuses in the middle of a deploy (moto refuses none of it), checked before any
// change: the account's concurrency left to reserve, and the size of a function's variables.

/** The account's Lambda concurrency in the region, from GetAccountSettings. */
export interface AccountConcurrency {
  /** AccountLimit.ConcurrentExecutions: the quota (1000 by default; often 10 on a new account). */
  limit: number;
  /** AccountLimit.UnreservedConcurrentExecutions: the quota less every function's reservation. */
  unreserved: number;
}

/**
 * AWS keeps this much of an account's concurrency unreserved, for the functions without a
 * reservation: a reservation may take the account only down to it. Below a quota of 100 that is
 * the whole quota, and nothing can be reserved.
 */
export const MIN_UNRESERVED = 100;

/** undefined: the endpoint (a stand-in without the API) cannot tell, and the check is skipped. */
export async function readAccountConcurrency(clients: AwsClients): Promise<AccountConcurrency | undefined> {
  const settings = await clients.lambda.send(new clients.sdk.lambda.GetAccountSettingsCommand({})).catch((error: unknown) => {
    if (clients.lacks(error)) return undefined;
    throw error;
  });
  if (!settings) return undefined;
  const limit = settings.AccountLimit?.ConcurrentExecutions;
  const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions;
  if (limit === undefined || unreserved === undefined) return undefined;
  return { limit, unreserved };
}

export interface Reservation {
  process: string;
  reserved: number;
}

/**
 * Refuses reservations the account cannot make, before the first of them. `wanted` are the
 * reservations the change sets; `held`, what the functions it changes hold now (they are
 * replaced, not added to). Where nothing can be reserved (a quota of 100 or less) twelve
 * refuses too rather than deploying without: a web cap and a clock's one-run-at-a-time rest
 * on the reservation, and a deploy that quietly dropped them would not be the formation.
 */
export function reservationProblem(wanted: Reservation[], held: number, account: AccountConcurrency, where: string): TwelveError | undefined {
  const needed = wanted.reduce((sum, r) => sum + r.reserved, 0);
  const keep = Math.min(MIN_UNRESERVED, account.limit);
  const available = account.unreserved + held - keep;
  if (needed === 0 || needed <= available) return undefined;
  const list = wanted.filter((r) => r.reserved > 0).map((r) => `${r.process} ${r.reserved}`).join(", ");
  const quota = `Service Quotas → AWS Lambda → "Concurrent executions" (quota code L-B99A9384) in the same region`;
  if (account.limit <= MIN_UNRESERVED) {
    return usageError(
      `cannot reserve Lambda concurrency in ${where}: the account's quota is ${account.limit} concurrent executions, and AWS keeps ${keep} of them unreserved, so no function can have a reservation; this needs ${needed} (${list})`,
      `Ask AWS to raise the quota: ${quota} (new accounts are usually raised to 1000). twelve does not deploy without the reservations: web caps and each clock's one run at a time rest on them.`,
    );
  }
  const others = Math.max(0, account.limit - account.unreserved - held);
  return usageError(
    `cannot reserve Lambda concurrency in ${where}: this needs ${needed} (${list}), but only ${Math.max(0, available)} can be reserved: the quota is ${account.limit} concurrent executions, AWS keeps ${keep} unreserved, and other functions of the account hold ${others}`,
    `Lower the web caps (concurrency in twelve.config.ts, or twelve scale), or ask AWS to raise the quota: ${quota}.`,
  );
}

/** Lambda refuses a function whose variables, as the JSON object it stores, exceed 4 KB. */
export const MAX_ENVIRONMENT_BYTES = 4096;

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

/**
 * The variables of each function as Lambda measures them (the JSON of the map, in bytes; secrets
 * and twelve's own variables count too), naming the largest when over.
 */
export function environmentProblems(functions: { process: string; environment: Record<string, string> }[], secrets: string[]): Problem[] {
  return functions.flatMap(({ process, environment }) => {
    const size = bytes(JSON.stringify(environment));
    if (size <= MAX_ENVIRONMENT_BYTES) return [];
    const largest = Object.entries(environment)
      .map(([name, value]) => ({ name, size: bytes(JSON.stringify({ [name]: value })) - 2 }))
      .sort((a, b) => b.size - a.size)
      .slice(0, 3)
      .map((v) => `${v.name}${secrets.includes(v.name) ? " (secret)" : ""} ${v.size} bytes`);
    return [{
      path: `processes.${process}.env`,
      message: `its variables are ${size} bytes as Lambda counts them (the JSON of every name and value, with secrets and twelve's own), over Lambda's limit of ${MAX_ENVIRONMENT_BYTES}; the largest: ${largest.join(", ")}. Move large values out of the environment: into a file bundled with the code, or into AWS Secrets Manager or SSM Parameter Store, read when the process starts`,
    }];
  });
}

export function environmentError(configFile: string, problems: Problem[]): TwelveError | undefined {
  return problems.length ? configError(configFile, problems) : undefined;
}
