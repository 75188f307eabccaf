// A formation of two clocks for the Cloudflare lease tests (test/adapters/cloudflare-clock-*.test.ts).

/** `slow` runs for 3 s; `broken` fails after 50 ms. Both are due every minute. */
export const CLOCK_APP = {
  "twelve.config.ts": `export default {
  app: "leases",
  target: "cloudflare",
  processes: {
    slow: { type: "clock", entry: "src/clock.ts", schedule: "* * * * *", env: { RUN_MS: "3000" } },
    broken: { type: "clock", entry: "src/clock.ts", schedule: "* * * * *", env: { RUN_MS: "50", FAIL: "1" } },
  },
  cloudflare: { compatibilityDate: "2026-08-01" },
};
`,
  "src/clock.ts": `export default {
  async scheduled(controller, env) {
    console.log("run starts for " + new Date(controller.scheduledTime).toISOString());
    await new Promise((resolve) => setTimeout(resolve, Number(env.RUN_MS)));
    if (env.FAIL === "1") throw new Error("the clock broke");
  },
};
`,
};
