import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTwelve } from "../support/cli.ts";
import { awsTestEnv } from "../support/moto.ts";
import { removeProject, shopProject } from "../support/project.ts";

// An endpoint that accepts connections and never answers (a dead proxy, a stalled API): every
// cloud call has a bound, is tried again with backoff, says what it is waiting for, and the
// command then fails naming the endpoint. TWELVE_CALL_TIMEOUT shortens the bound to 1 s here.
describe("cloud calls that never answer", () => {
  let silent: net.Server;
  const sockets: net.Socket[] = [];
  let endpoint: string;
  let dir: string;

  beforeAll(async () => {
    silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    dir = shopProject();
  });
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
    removeProject(dir);
  });

  it("AWS: plan gives up after its retries, having said what it waits for", { timeout: 60_000 }, async () => {
    const started = Date.now();
    const result = await runTwelve(["plan", "--stage", "ci"], { cwd: dir, env: { ...awsTestEnv(endpoint), MAIL_API_KEY: "k", TWELVE_CALL_TIMEOUT: "1" } });
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.stdout).toContain("still waiting for AWS STS GetCallerIdentity");
    expect(result.stderr).toContain("could not reach AWS STS");
    expect(result.stderr).toContain("requestTimeout");
  });

  it("Cloudflare: plan gives up after its retries, having said what it waits for", { timeout: 60_000 }, async () => {
    const started = Date.now();
    const env = { CLOUDFLARE_API_BASE_URL: `${endpoint}/client/v4`, CLOUDFLARE_API_TOKEN: "t", CLOUDFLARE_ACCOUNT_ID: "a", MAIL_API_KEY: "k", TWELVE_CALL_TIMEOUT: "1" };
    const result = await runTwelve(["plan", "--stage", "ci", "--target", "cloudflare"], { cwd: dir, env });
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.stdout).toContain("Cloudflare's API: GET /workers/scripts failed (no answer to GET /workers/scripts within 1 s); trying again (attempt 2 of 3)");
    expect(result.stderr).toContain(`could not reach Cloudflare's API at ${endpoint}/client/v4: no answer to GET`);
  });

  it("a bad TWELVE_CALL_TIMEOUT is a usage error", async () => {
    const result = await runTwelve(["plan", "--stage", "ci"], { cwd: dir, env: { ...awsTestEnv(endpoint), MAIL_API_KEY: "k", TWELVE_CALL_TIMEOUT: "soon" } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TWELVE_CALL_TIMEOUT: expected a number of seconds above 0, got "soon"');
  });
});
