/**
 * Cloud resource names. Every resource of a process is `<app>-<stage>-<process>` plus at most
 * a short suffix, and must fit the tightest platform limit: Cloudflare Worker and queue names
 * are at most 63 characters (Lambda functions and IAM roles allow 64).
 */

export const MAX_RESOURCE_NAME = 63;
/** The longest suffix any adapter adds to a process's name (the clock scheduler role). */
export const LONGEST_SUFFIX = "-sched";

/** Lower-case words joined by single hyphens: safe in every platform's names and in URLs. */
export const NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const APP_PATTERN = /^[a-z][a-z0-9-]{1,30}$/;

export function resourceName(app: string, stage: string, process: string): string {
  return `${app}-${stage}-${process}`;
}

export function queueName(app: string, stage: string, process: string): string {
  return resourceName(app, stage, process);
}

export function deadLetterQueueName(app: string, stage: string, process: string): string {
  return `${resourceName(app, stage, process)}-dlq`;
}

/** The env binding (Cloudflare) or variable (AWS) through which `send()` finds a worker's queue. */
export function queueBinding(process: string): string {
  return `TWELVE_QUEUE_${process.toUpperCase().replaceAll("-", "_")}`;
}

/** Why a stage name is unusable, or undefined when it is fine. */
export function stageProblem(stage: string): string | undefined {
  if (!NAME_PATTERN.test(stage) || stage.length > 20) {
    return `stage "${stage}" must be lower-case letters, digits and single hyphens, at most 20 characters, starting with a letter`;
  }
  return undefined;
}
