import type { Problem } from "../../src/formation/problems.ts";
import type { Formation } from "../../src/formation/types.ts";

/**
 * IAM role names twelve takes for itself on AWS, beside each process's `<app>-<stage>-<process>`:
 * the deploy lock's `<app>-<stage>-twelve-lock` and a clock's Scheduler role
 * `<app>-<stage>-<clock>-sched`. A process named so would share the role with twelve's own (a
 * process named `twelve-lock` would make the lock look held by every deploy; a process
 * `<clock>-sched` would get the Scheduler's role, or give it its own), so such names are a
 * config error, before anything is built. (The `-dlq` of dead-letter queues is every
 * platform's, and refused by the formation's own validation.)
 */
export const LOCK_PROCESS_NAME = "twelve-lock";
export const SCHEDULER_ROLE_SUFFIX = "-sched";

export function reservedNameProblems(formation: Formation): Problem[] {
  const problems: Problem[] = [];
  const clocks = new Set(formation.processes.filter((p) => p.type === "clock").map((p) => p.name));
  const roleOf = (name: string) => `${formation.app}-<stage>-${name}`;
  for (const p of formation.processes) {
    const path = `processes.${p.name}`;
    if (p.name === LOCK_PROCESS_NAME) {
      problems.push({ path, message: `"${p.name}" is reserved on AWS: twelve's deploy lock is the IAM role ${roleOf(LOCK_PROCESS_NAME)}, the role this process would get. Rename the process.` });
    }
    const clock = p.name.endsWith(SCHEDULER_ROLE_SUFFIX) ? p.name.slice(0, -SCHEDULER_ROLE_SUFFIX.length) : undefined;
    if (clock && clocks.has(clock)) {
      problems.push({ path, message: `"${p.name}" is taken on AWS by clock "${clock}": its EventBridge Scheduler role is ${roleOf(p.name)}, the role this process would get. Rename the process (or the clock).` });
    }
  }
  return problems;
}

/** Lambda's own rule for variable names (its model's pattern): a letter first, at least two characters. */
const LAMBDA_VARIABLE = /^[a-zA-Z][a-zA-Z0-9_]+$/;

/**
 * Variable and secret names that twelve's config takes (`_TOKEN`, `X`) but Lambda refuses in a
 * function's environment: otherwise CreateFunction fails half-way through a deploy.
 */
export function lambdaVariableProblems(formation: Formation): Problem[] {
  const problems: Problem[] = [];
  const rule = "AWS Lambda takes variable names of letters, digits and _ that start with a letter and are at least 2 characters long";
  formation.secrets.forEach((name, i) => {
    if (!LAMBDA_VARIABLE.test(name)) problems.push({ path: `secrets[${i}]`, message: `"${name}": ${rule}. Rename it.` });
  });
  const seen = new Set<string>();
  for (const p of formation.processes) {
    for (const name of Object.keys(p.env)) {
      if (LAMBDA_VARIABLE.test(name) || seen.has(name)) continue;
      seen.add(name);
      problems.push({ path: `processes.${p.name}.env.${name}`, message: `"${name}" (from env or the process's own env): ${rule}. Rename it.` });
    }
  }
  return problems;
}
