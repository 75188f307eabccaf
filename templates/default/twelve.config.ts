import { defineConfig } from "twelve";

export default defineConfig({
  app: "__APP__",
  target: "__TARGET__",
  processes: {
    web: { type: "web", entry: "src/web.ts", concurrency: 10 },
    jobs: { type: "worker", entry: "src/jobs.ts", concurrency: 2, batchSize: 10, maxRetries: 3, timeout: 60 },
    nightly: { type: "clock", entry: "src/nightly.ts", schedule: "0 3 * * *", timezone: "UTC" },
  },
  env: { LOG_LEVEL: "info" },
});
