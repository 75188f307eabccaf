// The shapes AWS delivers to a Lambda handler, as far as twelve reads them.
// Kept apart from the translation code so each reads on its own.

/** Function URL and API Gateway HTTP API events, payload format 2.0. */
export interface HttpEventV2 {
  version: "2.0";
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers?: Record<string, string | undefined>;
  body?: string;
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
}

/** The Input twelve gives its EventBridge Scheduler schedules (and `twelve run`). */
export interface ClockEvent {
  twelve?: "scheduled";
  /** ISO time, from the Scheduler's <aws.scheduler.scheduled-time>. */
  scheduledTime?: string;
}

/** The Lambda context object, the parts twelve uses. */
export interface LambdaContext {
  functionName?: string;
  awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}
