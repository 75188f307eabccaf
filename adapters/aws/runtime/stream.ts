import type { AwsLambdaGlobal, ResponseStream } from "./events.ts";
import { responseMetadata } from "./http-event.ts";

/** Lambda's Node runtime (and aws-lambda-ric) defines this global before it loads the handler. */
export function lambdaStreaming(): AwsLambdaGlobal | undefined {
  const awslambda = (globalThis as { awslambda?: Partial<AwsLambdaGlobal> }).awslambda;
  return awslambda?.streamifyResponse && awslambda.HttpResponseStream ? (awslambda as AwsLambdaGlobal) : undefined;
}

/**
 * Sends a Response down a Function URL's response stream as its chunks come: status, headers
 * and cookies first (the runtime writes them as a JSON prelude and 8 NUL bytes), then the body.
 * An error is thrown, not written: the runtime then ends the stream with error trailers, and
 * the Function URL answers 502 or cuts the connection, as it does for a buffered error.
 */
export async function streamResponse(awslambda: AwsLambdaGlobal, response: Response, responseStream: ResponseStream): Promise<void> {
  const stream = awslambda.HttpResponseStream.from(responseStream, responseMetadata(response));
  // The prelude goes out on the first write, so a response without a body still needs one.
  stream.write("");
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (!stream.write(chunk)) await new Promise((resolve) => stream.once("drain", resolve));
    }
  }
  await new Promise<void>((resolve) => stream.end(resolve));
}
