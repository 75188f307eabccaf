import { defineConfig } from "twelve";

// Broker throughput and latency under twelve dev: web enqueues, a no-op worker reports when
// each message's handler started.
export default defineConfig({
  app: "brokerbench",
  target: "aws",
  processes: {
    web: { type: "web", entry: "web.ts", concurrency: 10 },
    sink: { type: "worker", entry: "sink.ts", concurrency: 5, batchSize: 10 },
  },
  secrets: ["REPORT_URL"],
});
