import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTwelve } from "../support/cli.ts";
import { removeProject, shopProject } from "../support/project.ts";

// `twelve dlq` with no twelve dev running: it opens twelve dev's store itself (under its lock),
// and every mistake on its command line is a usage error naming what to do.

const now = Date.now();
const letter = (i: number) =>
  `{"id":"dead-${i}","body":{"email":"c${i}@example.com","items":[{"sku":"tea","quantity":${i}}]},"attempts":4,"sentAt":${now - 3_600_000 + i},"reason":"smtp refused; delivered 4 times (maxRetries 3)","error":"smtp refused c${i}@example.com","diedAt":${now}}\n`;

describe("twelve dlq without a running twelve dev", () => {
  let dir: string;
  const dlq = (...args: string[]) => runTwelve(["dlq", ...args], { cwd: dir });

  beforeAll(() => {
    dir = shopProject();
    fs.mkdirSync(path.join(dir, ".twelve/dev/broker/dead-letter"), { recursive: true });
    fs.writeFileSync(path.join(dir, ".twelve/dev/broker/dead-letter/mailer.jsonl"), [0, 1, 2].map(letter).join(""));
  });
  afterAll(() => removeProject(dir));

  it("summarises per worker and clock, and lists one worker's dead letters with their error and body", async () => {
    const summary = await dlq();
    expect(summary.code).toBe(0);
    expect(summary.stdout).toContain("twelve dev's store (.twelve/dev; twelve dev is not running)");
    expect(summary.stdout).toMatch(/mailer\s+worker\s+3\s+60 min old\s+\.twelve\/dev\/broker\/dead-letter\/mailer\.jsonl/);
    expect(summary.stdout).toMatch(/nightly\s+clock\s+0\s+-/);
    expect(summary.stdout).not.toMatch(/^web /m);

    const listed = await dlq("mailer");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain("dead-1  first sent");
    expect(listed.stdout).toContain("attempts 4");
    expect(listed.stdout).toContain("error smtp refused c1@example.com");
    expect(listed.stdout).toContain('"email": "c1@example.com"');
    expect(listed.stdout).toContain("3 dead letters");

    const json = JSON.parse((await dlq("mailer", "--json", "--id", "dead-2")).stdout) as { deadLetters: Record<string, unknown>[]; missing: string[] };
    expect(json.deadLetters).toEqual([
      { id: "dead-2", sentAt: new Date(now - 3_600_000 + 2).toISOString(), diedAt: new Date(now).toISOString(), attempts: 4, body: { email: "c2@example.com", items: [{ sku: "tea", quantity: 2 }] }, error: "smtp refused c2@example.com" },
    ]);
    expect(json.missing).toEqual([]);
  });

  it("cuts a long body unless --full", async () => {
    const long = { text: "x".repeat(5000) };
    fs.appendFileSync(path.join(dir, ".twelve/dev/broker/dead-letter/mailer.jsonl"), `{"id":"long","body":${JSON.stringify(long)},"attempts":4,"sentAt":${now},"reason":"r","diedAt":${now}}\n`);
    const cut = await dlq("mailer", "--id", "long");
    expect(cut.stdout).toContain("characters in all: --full shows them");
    expect(cut.stdout).not.toContain("x".repeat(2000));
    const full = await dlq("mailer", "--id", "long", "--full");
    expect(full.stdout).toContain("x".repeat(5000));
    expect((await dlq("mailer", "--purge", "--id", "long", "--yes")).code).toBe(0);
  });

  it("refuses what cannot be meant, with exit status 2", async () => {
    const cases: [string[], string][] = [
      [["web"], '"web" is a web process: it has no dead letters'],
      [["nosuch"], 'no process named "nosuch"; workers and clocks: mailer, nightly'],
      [["mailer", "--redrive", "--purge"], "--redrive and --purge cannot go together"],
      [["--redrive"], "--redrive needs a process"],
      [["nightly", "--redrive"], '"nightly" is a clock: a failed run is not sent back'],
      [["mailer", "extra"], "twelve dlq takes one process"],
      [["mailer", "--purge"], "needs confirmation, and there is nobody to ask"],
    ];
    for (const [args, message] of cases) {
      const run = await dlq(...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toContain(message);
    }
    // Nothing was changed by any of them.
    expect(JSON.parse((await dlq("mailer", "--json")).stdout).deadLetters).toHaveLength(3);
  });

  it("redrives into twelve dev's queue on disk and purges, holding twelve dev's lock meanwhile", async () => {
    const redriven = await dlq("mailer", "--redrive", "--id", "dead-0", "--id", "nope");
    expect(redriven.code).toBe(1);
    expect(redriven.stdout).toContain("sent 1 dead letter back to mailer's queue");
    expect(redriven.stderr + redriven.stdout).toContain("not found: nope");
    const journal = fs.readFileSync(path.join(dir, ".twelve/dev/broker/queues/mailer.jsonl"), "utf8");
    expect(journal).toContain('"body":{"email":"c0@example.com"');
    expect(fs.existsSync(path.join(dir, ".twelve/dev/lock.json"))).toBe(false);

    const purged = await dlq("mailer", "--purge", "--yes", "--json");
    expect(JSON.parse(purged.stdout)).toMatchObject({ ok: true, process: "mailer", purged: 2, missing: [] });
    expect((await dlq("mailer")).stdout).toContain("no dead letters");
  });
});
