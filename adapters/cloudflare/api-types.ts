// The shapes of Cloudflare's API that twelve reads and writes, from Cloudflare's official SDK
// (`cloudflare` on npm, generated from its OpenAPI schema; a dev dependency, type-only, so
// nothing of it ships): a field that drifts from the schema is a compile error. The stand-in
// in test/support/cloudflare-api.ts answers in the same types.
export type { Queue as QueueView, QueueCreateParams, QueueGetMetricsResponse as QueueMetricsView } from "cloudflare/resources/queues/queues";
export type { Consumer as ConsumerView, ConsumerCreateParams, ConsumerUpdateParams } from "cloudflare/resources/queues/consumers";
export type { MessagePushParams } from "cloudflare/resources/queues/messages";
export type { Script as ScriptView } from "cloudflare/resources/workers/scripts/scripts";
export type { ScheduleGetResponse as SchedulesView, ScheduleUpdateParams } from "cloudflare/resources/workers/scripts/schedules";
export type { SubdomainGetResponse as ScriptSubdomainView, SubdomainCreateParams } from "cloudflare/resources/workers/scripts/subdomain";
export type { SecretListResponse as SecretView, SecretUpdateParams } from "cloudflare/resources/workers/scripts/secrets";
export type { SettingEditParams } from "cloudflare/resources/workers/scripts/settings";

/** A request's body: the SDK's params less the path's. */
export type Body<P> = Omit<P, "account_id" | "queue_id" | "script_name" | "consumer_id">;
export type { SubdomainGetResponse as AccountSubdomainView } from "cloudflare/resources/workers/subdomains";

