import type { Process } from "../../src/formation/types.ts";

/**
 * Lambda's recursive loop detection (on by default) stops a message that has gone round the
 * same function and queue about 16 times: a worker that send()s to its own queue, meaning to,
 * would find its work silently dropped. Said at build time, with the setting that allows it.
 * Lambda counts the rounds in the X-Ray trace header the AWS SDK passes on with each SendMessage:
 * whether it sees a loop through send() depends on send() passing it too, hence "may".
 */
export function recursionNotes(process: Process, sends: string[]): string[] {
  if (process.type !== "worker" || !sends.includes(process.name) || process.aws?.recursiveLoop === "allow") return [];
  return [
    `${process.name} may send() to its own queue: on AWS, Lambda's recursive loop detection (on by default) may stop a message after about 16 rounds through it. If the loop is meant, set processes.${process.name}.aws.recursiveLoop: "allow" in twelve.config.ts.`,
  ];
}
