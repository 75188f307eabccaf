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

/**
 * A stage is one word: lower-case letters and digits. App names have hyphens, so a hyphen in a
 * stage would let two apps name their resources alike: app "aws" stage "app-dlq" and app
 * "aws-app" stage "dlq" both make `aws-app-dlq-<process>`. With one-word stages, an app's
 * stages never share a name, nor do `<app>-<stage>` schedule groups; two apps can still meet
 * (app "a" stage "b" with process "c-web", app "a-b" stage "c" with process "web"), and there
 * the adapters' ownership checks refuse to touch the other app's resources.
 */
export const STAGE_PATTERN = /^[a-z][a-z0-9]*$/;
export const MAX_STAGE = 20;

/** Why a stage name is unusable, or undefined when it is fine. */
export function stageProblem(stage: string): string | undefined {
  if (STAGE_PATTERN.test(stage) && stage.length <= MAX_STAGE) return undefined;
  const oneWord = stage.toLowerCase().replace(/[^a-z0-9]/g, "");
  const suggestion = STAGE_PATTERN.test(oneWord) && oneWord.length <= MAX_STAGE ? ` (such as "${oneWord}")` : "";
  const why = stage.includes("-") ? `: resource names are <app>-<stage>-<process>, and with a hyphen app "a" stage "b-c" and app "a-b" stage "c" would name theirs alike` : "";
  return `stage "${stage}" must be lower-case letters and digits, starting with a letter, at most ${MAX_STAGE} characters, with no hyphen${why}. Use one word${suggestion}.`;
}
