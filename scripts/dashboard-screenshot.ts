// node scripts/dashboard-screenshot.ts: the README's picture of twelve dev's dashboard, taken in
// Debian's chromium from the formation of test/fixtures/dashboard-app with some work going on.
import fs from "node:fs";
import path from "node:path";
import { launchChromium } from "../test/support/browser.ts";
import { freePorts, startTwelveDev } from "../test/support/dev.ts";
import { copyFixture, removeProject } from "../test/support/project.ts";

const out = path.resolve(import.meta.dirname, "../docs/dashboard.png");
const dir = copyFixture("dashboard-app");
const dev = startTwelveDev(dir, ["--port", String(await freePorts(2))]);
const browser = await launchChromium();
try {
  const url = /dashboard (http:\S+)/.exec(await dev.waitForLine(/dashboard http:/, 60_000))?.[1] as string;
  const token = (JSON.parse(fs.readFileSync(path.join(dir, ".twelve/dev/server.json"), "utf8")) as { token: string }).token;
  const run = (name: string, body?: unknown) => fetch(`${url}/run/${name}`, { method: "POST", headers: { "x-twelve-token": token }, body: body === undefined ? "" : JSON.stringify(body) });
  await run("nightly");
  await run("picky", { customer: "stranger" });
  for (let i = 0; i < 40; i++) await run("slowpoke", { ms: 300 + i * 20 });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(url);
  await page.getByLabel("dead letters of picky", { exact: true }).waitFor({ timeout: 30_000 });
  await page.waitForTimeout(4000);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await dev.stop();
  removeProject(dir);
}
