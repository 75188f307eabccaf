import { afterAll, describe, expect, it } from "vitest";
import { environmentProblems, MAX_ENVIRONMENT_BYTES, reservationProblem } from "../../adapters/aws/account-limits.ts";
import { buildProject, makeProject, removeProject, shopProject } from "../support/project.ts";

// What AWS refuses half-way through a deploy and moto never does: checked by twelve first.
describe("AWS account concurrency", () => {
  const where = "account 123456789012 in eu-west-1";

  it("lets reservations take the account down to 100 unreserved, counting what the stage already holds", () => {
    // A fresh account: 1000, nothing reserved. web 50 + a clock's 1 fit; 900 in all is the most.
    expect(reservationProblem([{ process: "web", reserved: 50 }, { process: "nightly", reserved: 1 }], 0, { limit: 1000, unreserved: 1000 }, where)).toBeUndefined();
    expect(reservationProblem([{ process: "web", reserved: 899 }, { process: "nightly", reserved: 1 }], 0, { limit: 1000, unreserved: 1000 }, where)).toBeUndefined();
    // The stage holds 51 already (unreserved 949): a redeploy replaces them, it does not add to them.
    expect(reservationProblem([{ process: "web", reserved: 899 }, { process: "nightly", reserved: 1 }], 51, { limit: 1000, unreserved: 949 }, where)).toBeUndefined();
  });

  it("refuses what would leave less than 100 unreserved, with the numbers and what to do", () => {
    const error = reservationProblem([{ process: "web", reserved: 1000 }, { process: "nightly", reserved: 1 }], 0, { limit: 1000, unreserved: 1000 }, where);
    expect(error?.message).toBe(
      "cannot reserve Lambda concurrency in account 123456789012 in eu-west-1: this needs 1001 (web 1000, nightly 1), but only 900 can be reserved: the quota is 1000 concurrent executions, AWS keeps 100 unreserved, and other functions of the account hold 0",
    );
    expect(error?.hint).toMatch(/^Lower the web caps .*L-B99A9384/);
    // Other functions of the account hold 850: 50 left.
    expect(reservationProblem([{ process: "web", reserved: 50 }, { process: "nightly", reserved: 1 }], 0, { limit: 1000, unreserved: 150 }, where)?.message).toMatch(/only 50 can be reserved: .* other functions of the account hold 850$/);
  });

  it("refuses on an account whose quota leaves nothing to reserve (a new account's 10), saying why twelve does not deploy without", () => {
    const error = reservationProblem([{ process: "web", reserved: 50 }, { process: "nightly", reserved: 1 }], 0, { limit: 10, unreserved: 10 }, where);
    expect(error?.message).toBe(
      "cannot reserve Lambda concurrency in account 123456789012 in eu-west-1: the account's quota is 10 concurrent executions, and AWS keeps 10 of them unreserved, so no function can have a reservation; this needs 51 (web 50, nightly 1)",
    );
    expect(error?.hint).toMatch(/raise the quota: Service Quotas .* twelve does not deploy without the reservations/);
    expect(error?.exitCode).toBe(2);
  });
});

describe("AWS function variables", () => {
  it("counts them as Lambda does (the JSON of the map) and names the largest when over 4 KB", () => {
    const fits = { A: "x".repeat(MAX_ENVIRONMENT_BYTES - '{"A":""}'.length) };
    expect(environmentProblems([{ process: "web", environment: fits }], [])).toEqual([]);
    // One byte more, counted in UTF-8 bytes (é is two).
    const over = { ...fits, A: `${fits.A.slice(1)}é` };
    expect(environmentProblems([{ process: "web", environment: over }], [])).toHaveLength(1);
    const [problem] = environmentProblems([{ process: "web", environment: { BIG_CONFIG: "c".repeat(3100), MAIL_API_KEY: "k".repeat(1000), LOG_LEVEL: "info", TWELVE_APP: "shop" } }], ["MAIL_API_KEY"]);
    expect(problem?.path).toBe("processes.web.env");
    expect(problem?.message).toMatch(/^its variables are 4174 bytes as Lambda counts them .* over Lambda's limit of 4096/);
    expect(problem?.message).toContain("the largest: BIG_CONFIG 3115 bytes, MAIL_API_KEY (secret) 1017 bytes, TWELVE_APP 19 bytes");
    expect(problem?.message).toContain("AWS Secrets Manager or SSM Parameter Store");
  });
});

describe("AWS formation settings", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeProject));
  const project = (edit: (config: string) => string) => {
    const dir = shopProject(edit);
    dirs.push(dir);
    return dir;
  };

  it("takes aws.logRetentionDays among CloudWatch's values, and refuses any other with the list", async () => {
    const { formation } = await buildProject(project((c) => c.replace('architecture: "arm64" }', 'architecture: "arm64", logRetentionDays: 7 }')), "aws");
    expect(formation.aws.logRetentionDays).toBe(7);
    await expect(buildProject(project((c) => c.replace('architecture: "arm64" }', 'architecture: "arm64", logRetentionDays: 10 }')), "aws")).rejects.toMatchObject({
      details: ["aws.logRetentionDays: expected one of CloudWatch Logs' retention periods in days: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, got 10"],
    });
  });

  it("warns at build about a worker that sends to its own queue, unless the config allows the loop", async () => {
    const files = (allow: boolean) => ({
      "twelve.config.ts": `export default { app: "loop", target: "aws", processes: { crawler: { type: "worker", entry: "crawler.ts", concurrency: 2${allow ? ', aws: { recursiveLoop: "allow" }' : ""} } } };`,
      "crawler.ts": 'import { defineWorker, send } from "twelve";\nexport default defineWorker(async (page: { url: string }) => { await send("crawler", { url: page.url + "/next" }); });\n',
    });
    const warned = makeProject(files(false));
    const allowed = makeProject(files(true));
    dirs.push(warned, allowed);
    const w = await buildProject(warned, "aws");
    expect(w.manifest.notes).toEqual([
      'crawler may send() to its own queue: on AWS, Lambda\'s recursive loop detection (on by default) may stop a message after about 16 rounds through it. If the loop is meant, set processes.crawler.aws.recursiveLoop: "allow" in twelve.config.ts.',
    ]);
    const built = await buildProject(allowed, "aws");
    expect(built.manifest.notes).toEqual([]);
    expect(built.formation.processes[0]).toMatchObject({ aws: { recursiveLoop: "allow" } });
    await expect(buildProject(makeProject({ ...files(false), "twelve.config.ts": files(true)["twelve.config.ts"].replace('"allow"', '"sometimes"') }), "aws")).rejects.toMatchObject({
      details: [expect.stringMatching(/^processes\.crawler\.aws\.recursiveLoop: expected "allow" or "terminate"/)],
    });
  });
});
