import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsInvoker } from "./invokers/aws.ts";
import { cloudflareInvoker } from "./invokers/cloudflare.ts";
import type { Invoker } from "./invokers/types.ts";

// One set of expectations for every platform, run on the built artifacts of
// test/fixtures/conformance. Each adapter only supplies an Invoker.
const invokers: [string, () => Promise<Invoker>][] = [
  ["aws", awsInvoker],
  ["cloudflare", cloudflareInvoker],
];

describe.each(invokers)("conformance on %s", (_target, start) => {
  let platform: Invoker;
  const seen = (process: string, id: string) => (r: Record<string, unknown>) => r.process === process && r.id === id;

  beforeAll(async () => {
    platform = await start();
  }, 60_000);

  afterAll(async () => {
    await platform?.close();
  });

  it("web: method, path, repeated query parameters, headers and cookies reach fetch()", async () => {
    const response = await platform.fetch("/echo/a%20b?x=1&x=2&y=%C3%BC", {
      method: "PUT",
      headers: { "x-custom": "one", cookie: "a=1; b=2", "content-type": "text/plain" },
      body: "héllo",
    });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Record<string, unknown>;
    expect(echo.method).toBe("PUT");
    expect(echo.path).toBe("/echo/a%20b");
    expect(echo.query).toEqual([["x", "1"], ["x", "2"], ["y", "ü"]]);
    expect(echo.cookie).toBe("a=1; b=2");
    expect((echo.headers as Record<string, string>)["x-custom"]).toBe("one");
    expect(echo.body).toBe("héllo");
  });

  it("web: a binary request body and a binary response survive byte for byte", async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const response = await platform.fetch("/binary", { method: "POST", body: bytes, headers: { "content-type": "application/octet-stream" } });
    expect(response.headers.get("content-type")).toBe("application/octet-stream");
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([...bytes].reverse());
  });

  it("web: bytes that are not UTF-8 survive under a binary type with a parameter, and under no type", async () => {
    const expected = Array.from({ length: 256 }, (_, i) => 255 - i);
    const pdf = await platform.fetch("/bytes/pdf");
    expect(pdf.headers.get("content-type")).toBe("application/pdf; charset=binary");
    expect([...new Uint8Array(await pdf.arrayBuffer())]).toEqual(expected);
    const untyped = await platform.fetch("/bytes/untyped");
    expect(untyped.status).toBe(200);
    expect([...new Uint8Array(await untyped.arrayBuffer())]).toEqual(expected);
  });

  it("web: a streamed response (server-sent events) reaches the client as it is produced", async () => {
    const started = Date.now();
    const response = await platform.fetch("/events");
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = decoder.decode((await reader.read()).value);
    const firstAt = Date.now() - started;
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += decoder.decode(r.value);
    const lastAt = Date.now() - started;
    expect(first).toBe("data: first\n\n");
    expect(rest).toBe("data: second\n\n");
    // The second event is sent 600 ms after the first; a buffered response brings both together.
    expect(lastAt - firstAt).toBeGreaterThan(400);
  });

  it("web: several Set-Cookie headers stay separate, and the status passes through", async () => {
    const response = await platform.fetch("/cookies");
    expect(response.status).toBe(201);
    expect(response.headers.getSetCookie()).toEqual(["session=abc; Path=/; HttpOnly", "theme=dark; Max-Age=3600"]);
    expect(await response.text()).toBe("two cookies");
  });

  it("web: a status without a body", async () => {
    const response = await platform.fetch("/status/204");
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
  });

  it("send() from web reaches the worker's queue() with its body, attempts 1 and the queue's name", async () => {
    const body = { id: "hello", text: "grüße 🚀", nested: { list: [1, null, true] } };
    const response = await platform.fetch("/send/jobs", { method: "POST", body: JSON.stringify([{ body }]) });
    expect(response.status).toBe(202);
    const [report] = await platform.reports.waitFor(seen("jobs", "hello"), (r) => r.length >= 1);
    expect(report).toMatchObject({ body, attempts: 1, queue: "conf-dev-jobs" });
    expect(Math.abs((report!.timestamp as number) - Date.now())).toBeLessThan(30_000);
  });

  it("a partial batch failure redelivers only the message that threw", async () => {
    const messages = [{ body: { id: "p1" } }, { body: { id: "p2", failUntilAttempt: 1 } }, { body: { id: "p3" } }];
    await platform.fetch("/send/mailer", { method: "POST", body: JSON.stringify(messages) });
    const again = await platform.reports.waitFor(seen("mailer", "p2"), (r) => r.length >= 2);
    expect(again.map((r) => r.attempts)).toEqual([1, 2]);
    await new Promise((r) => setTimeout(r, 500));
    for (const id of ["p1", "p3"]) expect(platform.reports.reports.filter(seen("mailer", id))).toHaveLength(1);
    expect(platform.reports.reports.filter(seen("mailer", "p2"))).toHaveLength(2);
  });

  it("retry({ delaySeconds }) redelivers after the delay, retry({ delaySeconds: 0 }) at once", async () => {
    const messages = [{ body: { id: "r-late", retryDelay: 2 } }, { body: { id: "r-now", retryDelay: 0 } }];
    await platform.fetch("/send/jobs", { method: "POST", body: JSON.stringify(messages) });
    const now = await platform.reports.waitFor(seen("jobs", "r-now"), (r) => r.length >= 2);
    expect((now[1]!.at as number) - (now[0]!.at as number)).toBeLessThan(1500);
    const late = await platform.reports.waitFor(seen("jobs", "r-late"), (r) => r.length >= 2);
    expect(late.map((r) => r.attempts)).toEqual([1, 2]);
    expect((late[1]!.at as number) - (late[0]!.at as number)).toBeGreaterThanOrEqual(1900);
  });

  it("send() with delaySeconds holds the message back", async () => {
    const sentAt = Date.now();
    await platform.fetch("/send/jobs", { method: "POST", body: JSON.stringify([{ body: { id: "delayed" }, delaySeconds: 1 }]) });
    const [report] = await platform.reports.waitFor(seen("jobs", "delayed"), (r) => r.length >= 1);
    expect((report!.at as number) - sentAt).toBeGreaterThanOrEqual(900);
  });

  it("send() to a process that is not a worker fails with a message naming the workers", async () => {
    const response = await platform.fetch("/send/web", { method: "POST", body: JSON.stringify([{ body: {} }]) });
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: string }).error).toBe(
      'send("web"): "web" is not a worker process of this formation (workers: jobs, mailer)',
    );
  });

  it("clock: scheduled() runs at its local time with its own crontab line and the scheduled time", async () => {
    // Monday 6 July 2026, 09:00 in New York (EDT, UTC-4).
    const scheduledTime = Date.UTC(2026, 6, 6, 13, 0);
    await platform.fireClock(scheduledTime);
    const [report] = await platform.reports.waitFor((r) => r.process === "tick", (r) => r.length >= 1);
    expect(report).toMatchObject({ cron: "0 9 * * 1-5", scheduledTime });
    expect(platform.reports.reports.filter((r) => r.process === "tick")).toHaveLength(1);
  });
});
