import { defineConfig } from "twelve";

// The smallest web process: the bench compares its AWS bundle with a hand-written handler.
export default defineConfig({
  app: "hello",
  target: "aws",
  processes: { web: { type: "web", entry: "src/web.ts", concurrency: 100 } },
});
