import { defineConfig } from "twelve";

// The repository's own formation: the shop example (examples/shop). `npx twelve build`
// and `npx twelve dev` in the repository root use it.
export default defineConfig({
  app: "shop",
  target: "aws",
  processes: {
    web: { type: "web", entry: "examples/shop/src/api.ts", concurrency: 50 },
    mailer: { type: "worker", entry: "examples/shop/src/mailer.ts", concurrency: 5, batchSize: 10, maxRetries: 3, timeout: 60 },
    nightly: { type: "clock", entry: "examples/shop/src/nightly.ts", schedule: "0 3 * * *", timezone: "Europe/Berlin" },
  },
  env: { LOG_LEVEL: "info" },
  secrets: ["MAIL_API_KEY"],
  aws: { region: "eu-west-1", memory: 512, architecture: "arm64" },
  cloudflare: { compatibilityDate: "2026-08-01" },
});
