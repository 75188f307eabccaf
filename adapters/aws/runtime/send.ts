import { installTransport } from "../../../src/runtime/send.ts";
import type { ProcessMeta } from "../../../src/runtime/types.ts";
import { queueBinding } from "../../../src/formation/names.ts";
import { MAX_MESSAGE_BYTES } from "../limits.ts";
import { sqsFromEnvironment, type SqsClient } from "./sqs.ts";

/** Message attribute that tells twelve's worker wrapper the body is JSON it wrote. */
export const CONTENT_TYPE_ATTRIBUTE = "twelve-content-type";
export const JSON_CONTENT_TYPE = "application/json";

let client: SqsClient | undefined;
/** One client per container: credentials and endpoint do not change between invocations. */
export function sqs(): SqsClient {
  client ??= sqsFromEnvironment(process.env);
  return client;
}

/** The queue URL of a worker, which deploy puts in the function's environment. */
export function queueUrl(worker: string): string {
  const variable = queueBinding(worker);
  const url = process.env[variable];
  if (!url) throw new Error(`send("${worker}"): ${variable} is not set; this function was not deployed by twelve deploy, or may not send to "${worker}"`);
  return url;
}

export function installSqsTransport(meta: ProcessMeta): void {
  installTransport({
    workers: meta.workers,
    maxDelaySeconds: 900,
    async send(worker, text, options) {
      const bytes = new TextEncoder().encode(text).byteLength;
      if (bytes > MAX_MESSAGE_BYTES) throw new Error(`send("${worker}"): the body is ${bytes} bytes as JSON; SQS takes at most ${MAX_MESSAGE_BYTES}`);
      await sqs().sendMessage(queueUrl(worker), text, {
        delaySeconds: options.delaySeconds,
        attributes: { [CONTENT_TYPE_ATTRIBUTE]: JSON_CONTENT_TYPE },
      });
    },
  });
}
