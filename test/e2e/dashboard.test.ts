import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.ts";
import { freePorts, startTwelveDev } from "../support/dev.ts";
import { copyFixture, removeProject } from "../support/project.ts";

// twelve dev's dashboard, driven in Debian's chromium on both engines: what a user sees and
// clicks, checked from the page.

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
});

describe.each(["aws", "cloudflare"] as const)("the dashboard of twelve dev --target %s", (target) => {
  let dir: string;
  let dev: ReturnType<typeof startTwelveDev>;
  let url: string;
  let page: Page;

  beforeAll(async () => {
    dir = copyFixture("dashboard-app");
    dev = startTwelveDev(dir, ["--target", target, "--port", String(await freePorts(2))]);
    url = /dashboard (http:\/\/127\.0\.0\.1:\d+\/_twelve)/.exec(await dev.waitForLine(/dashboard http:/, 60_000))?.[1] as string;
    page = await browser.newPage();
    await page.goto(url);
    await page.waitForSelector("body[data-ready=true]");
  }, 90_000);
  afterAll(async () => {
    await page?.close();
    await dev?.stop();
    if (dir) removeProject(dir);
  });

  const card = (name: string) => page.getByRole("article", { name, exact: true });
  const sendFromPage = async (worker: string, body: unknown) => {
    await page.getByLabel("Worker").selectOption(worker);
    await page.getByLabel("Message (JSON)").fill(JSON.stringify(body));
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.locator("#send-notice", { hasText: `sent to ${worker} as message` }).waitFor();
  };

  it("shows a card for every process with its type and cap, live", async () => {
    for (const [name, badge] of [["web", target === "aws" ? "web · cap 4" : "web · no cap"], ["slowpoke", "worker · cap 2"], ["picky", "worker · cap 2"], ["nightly", "clock · cap 1"]]) {
      await expect(card(name as string).locator(".badge").textContent()).resolves.toBe(badge);
      await expect(card(name as string).locator(".state").textContent()).resolves.toBe("up");
    }
    await page.locator("#connection", { hasText: "live" }).waitFor();
    // The clock in words and crontab, its zone, and its next run in both zones.
    const clock = page.locator("#clocks tr", { hasText: "nightly" });
    await expect(clock.locator(".schedule").textContent()).resolves.toBe("at 03:00, every day0 3 * * *");
    await expect(clock.locator(".zone").textContent()).resolves.toBe("Europe/Berlin");
    await expect(clock.locator(".next").textContent()).resolves.toMatch(/03:00.*0[12]:00 UTC/);
  });

  it("delivers a message sent from its form, and shows the cap in use while the worker runs", async () => {
    await sendFromPage("slowpoke", { ms: 4000 });
    await sendFromPage("slowpoke", { ms: 4000 });
    await card("slowpoke").locator(".use", { hasText: "2 of 2 batches in use" }).waitFor({ timeout: 10_000 });
    await expect(card("slowpoke").locator("meter").evaluate((m: HTMLMeterElement) => [m.value, m.max])).resolves.toEqual([2, 2]);
    // Delivered: the worker's own line reaches the page's log, and the cap is free again.
    await page.locator("#log li", { hasText: "slowpoke done after 4000 ms" }).first().waitFor({ timeout: 15_000 });
    await card("slowpoke").locator(".use", { hasText: "0 of 2 batches in use" }).waitFor({ timeout: 10_000 });
    // The log filter shows one process's lines only.
    await page.getByLabel("Show").selectOption("nightly");
    await expect(page.locator("#log li", { hasText: "slowpoke done" }).count()).resolves.toBe(0);
    await page.getByLabel("Show").selectOption("");
    await expect(page.locator("#log li", { hasText: "slowpoke done" }).count()).resolves.toBeGreaterThan(0);
  });

  it("shows a web process's requests in flight (and, on Cloudflare, that there is no cap)", async () => {
    const webUrl = /web (http:\/\/localhost:\d+)/.exec(dev.lines.find((l) => /ready web http/.test(l)) ?? "")?.[1] as string;
    const held = fetch(`${webUrl}/hold`);
    if (target === "aws") {
      await card("web").locator(".use", { hasText: "1 of 4 requests in use" }).waitFor({ timeout: 5000 });
    } else {
      await card("web").locator(".use", { hasText: "1 request in flight (no cap on Cloudflare)" }).waitFor({ timeout: 5000 });
    }
    expect(await (await held).text()).toBe("held");
  });

  it("runs a clock now from the keyboard, and shows that run as its last", async () => {
    const button = page.getByRole("button", { name: "Run nightly now" });
    await button.focus();
    await page.keyboard.press("Enter");
    await page.locator("#clock-notice", { hasText: /nightly ran in/ }).waitFor({ timeout: 15_000 });
    await page.locator("#clocks tr .last[data-outcome=ok]", { hasText: /^ok in/ }).waitFor({ timeout: 5000 });
    await page.locator("#log li", { hasText: "nightly ran for" }).first().waitFor();
  });

  it("shows a dead letter with its body and error; Redrive sends it back and empties the list", async () => {
    await sendFromPage("picky", { customer: "stranger" });
    const group = page.getByLabel("dead letters of picky", { exact: true });
    await group.locator(".letter", { hasText: "no such customer: stranger" }).waitFor({ timeout: 30_000 });
    await expect(group.locator("pre").textContent()).resolves.toBe(JSON.stringify({ customer: "stranger" }, null, 2));
    await expect(page.locator("#queues tr", { hasText: "picky" }).locator(".dead").textContent()).resolves.toBe("1");

    await sendFromPage("picky", { learn: "stranger" });
    await page.getByRole("button", { name: "Redrive all dead letters of picky" }).click();
    await page.locator("#dead-notice", { hasText: "picky: 1 sent back to the queue" }).waitFor();
    await page.locator("#log li", { hasText: "picky took stranger" }).waitFor({ timeout: 15_000 });
    await group.waitFor({ state: "detached", timeout: 10_000 });
    await expect(page.locator("#dead-none").isVisible()).resolves.toBe(true);
  });

  it("purges after the user confirms", async () => {
    await sendFromPage("picky", { customer: "nobody" });
    const group = page.getByLabel("dead letters of picky", { exact: true });
    await group.locator(".letter", { hasText: "no such customer: nobody" }).waitFor({ timeout: 30_000 });
    page.once("dialog", (dialog) => void dialog.dismiss());
    await page.getByRole("button", { name: "Purge all dead letters of picky" }).click();
    await page.waitForTimeout(1500);
    await expect(group.locator(".letter").count()).resolves.toBe(1);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: "Purge all dead letters of picky" }).click();
    await page.locator("#dead-notice", { hasText: "picky: 1 deleted" }).waitFor();
    await group.waitFor({ state: "detached", timeout: 10_000 });
  });

  it("changes state only with this start's token, and only for its own page", async () => {
    const token = (JSON.parse(fs.readFileSync(path.join(dir, ".twelve/dev/server.json"), "utf8")) as { token: string }).token;
    await expect(page.locator('meta[name="twelve-token"]').getAttribute("content")).resolves.toBe(token);
    const run = `${url}/run/nightly`;
    expect((await fetch(run, { method: "POST" })).status).toBe(401);
    expect((await fetch(run, { method: "POST", headers: { "x-twelve-token": "x".repeat(token.length) } })).status).toBe(401);
    // A page of another site that somehow had the token is refused by the browser's own word.
    expect((await fetch(run, { method: "POST", headers: { "x-twelve-token": token, "sec-fetch-site": "cross-site" } })).status).toBe(403);
    const html = await fetch(url);
    expect(html.headers.get("x-frame-options")).toBe("DENY");
  });

  it("is readable in the dark scheme too", async () => {
    const colours = async () => page.evaluate(() => [getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]);
    await page.emulateMedia({ colorScheme: "light" });
    const light = await colours();
    await page.emulateMedia({ colorScheme: "dark" });
    const dark = await colours();
    expect(light).toEqual(["rgb(250, 250, 250)", "rgb(29, 29, 31)"]);
    expect(dark).toEqual(["rgb(18, 19, 22)", "rgb(232, 232, 234)"]);
    await page.emulateMedia({ colorScheme: "light" });
  });
});
