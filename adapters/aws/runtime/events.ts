// The shapes AWS delivers to a Lambda handler, as far as twelve reads them.
// Kept apart from the translation code so each reads on its own.

/** Function URL and API Gateway HTTP API events, payload format 2.0. */
export interface HttpEventV2 {
  version: "2.0";
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  /** Values are decoded as UTF-8 by AWS, so they may hold any code point (not only a byte string). */
  headers?: Record<string, string | undefined>;
  /** Absent or null when the request has none (aws-lambda-go and aws-sam-cli's events send null). */
  body?: string | null;
  isBase64Encoded: boolean;
  requestContext: {
    domainName?: string;
    http: { method: string; path: string; sourceIp?: string };
  };
}

export interface HttpResultV2 {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/** What a streamed Function URL response starts with (awslambda.HttpResponseStream.from). */
export interface HttpResponseMetadata {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
}

/**
 * The writable the Lambda runtime hands a streaming handler (a Node http.ClientRequest to the
 * Runtime API underneath), the parts twelve uses.
 */
export interface ResponseStream {
  write(chunk: Uint8Array | string, callback?: (error?: Error | null) => void): boolean;
  end(callback?: () => void): void;
  once(event: "drain" | "error" | "close", listener: (...args: unknown[]) => void): unknown;
  readonly writableNeedDrain?: boolean;
}

/** The `awslambda` global that Lambda's Node runtime (and aws-lambda-ric) defines before loading a handler. */
export interface AwsLambdaGlobal {
  streamifyResponse<H extends (event: never, stream: ResponseStream, context?: LambdaContext) => Promise<void>>(handler: H): H;
  HttpResponseStream: { from(stream: ResponseStream, metadata: HttpResponseMetadata): ResponseStream };
}

export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: { ApproximateReceiveCount?: string; SentTimestamp?: string };
  messageAttributes?: Record<string, { stringValue?: string; dataType: string }>;
  eventSourceARN: string;
}

export interface SqsEvent {
  Records: SqsRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
  /** Only under twelve dev (TWELVE_DEV): why each failed message failed, for its broker's dead letters. */
  twelveFailures?: Record<string, { error: string; final: boolean }>;
}

/** The Input twelve gives its EventBridge Scheduler schedules (and `twelve run`). */
export interface ClockEvent {
  twelve?: "scheduled";
  /** ISO time, from the Scheduler's <aws.scheduler.scheduled-time>. */
  scheduledTime?: string;
}

/**
 * The line the clock wrapper logs at the end of every run it makes, as JSON (Lambda's log
 * line puts its time, request id and level before it). `twelve ps` finds the newest with the
 * filter pattern `"clock-run"`.
 */
export interface ClockRunLine {
  twelve: "clock-run";
  process: string;
  /** ISO times. */
  scheduledTime: string;
  startedAt: string;
  outcome: "ok" | "failed";
  durationMs: number;
  /** failed: the error. */
  detail: string | null;
}

/** The Lambda context object, the parts twelve uses. */
export interface LambdaContext {
  functionName?: string;
  awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}
