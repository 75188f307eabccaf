import { defineWorker } from "twelve";

// One message at a time: a throw retries just this message, up to maxRetries.
export default defineWorker(async (job: Record<string, unknown>, message) => {
  console.log(`job ${message.id} (attempt ${message.attempts}):`, JSON.stringify(job));
});
