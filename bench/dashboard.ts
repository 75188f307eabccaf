import type { Page } from "playwright-core";
import { launchChromium } from "../test/support/browser.ts";
import { benchBroker } from "./dev.ts";
import { ratio } from "./tools.ts";

const COUNT = 10_000;
const LOADS = 10;

/**
 * issue 17's figures, in one run per engine: the dashboard page's load time in Debian's
 * chromium (navigation to its first live render, and the browser's load event), and twelve
 * dev's broker throughput for 10,000 messages with and without a page open, with the page's
 * longest frame gap while they flow (does it stay responsive?).
 */
export async function benchDashboard(): Promise<void> {
  const browser = await launchChromium();
  try {
    for (const target of ["aws", "cloudflare"]) {
      const without = await benchBroker(target, COUNT);
      const ready: number[] = [];
      const loaded: number[] = [];
      let gap = 0;
      const withPage = await benchBroker(target, COUNT, { watch: async (url) => {
        const page = await browser.newPage();
        for (let i = 0; i < LOADS; i++) {
          const started = performance.now();
          await page.goto(url);
          await page.waitForSelector("body[data-ready=true]");
          ready.push(performance.now() - started);
          loaded.push(await page.evaluate(() => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).loadEventEnd));
        }
        await watchFrames(page);
        return async () => {
          gap = await page.evaluate(() => (globalThis as unknown as { longestGap: number }).longestGap);
          await page.close();
        };
      } });
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
      console.log(`\n## dashboard, twelve dev --target ${target}`);
      console.log(`  page load (median of ${LOADS}): ${median(loaded).toFixed(0)} ms to the load event, ${median(ready).toFixed(0)} ms to the first render of the formation (aim: under 200 ms)`);
      console.log(`  broker with the page open / without: ${ratio(withPage, without)} (${withPage.toFixed(0)} vs ${without.toFixed(0)} messages/s for ${COUNT} messages)`);
      console.log(`  the page's longest frame gap while they flowed: ${gap.toFixed(0)} ms`);
    }
  } finally {
    await browser.close();
  }
}

/** Records in the page the longest time between two animation frames from now on. */
async function watchFrames(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as unknown as { longestGap: number };
    g.longestGap = 0;
    let last = performance.now();
    const frame = (now: number) => {
      g.longestGap = Math.max(g.longestGap, now - last);
      last = now;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}
