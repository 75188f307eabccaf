import { describe, expect, it } from "vitest";
import { cronTriggerNote } from "../../adapters/cloudflare/wrangler.ts";
import type { Formation } from "../../src/formation/types.ts";

// Cloudflare counts Cron Triggers per account (5 on Workers Free, 250 on Paid): a build says how
// many the stage's clocks take, and warns past each limit.
const formationOf = (clocks: number): Formation =>
  ({ processes: Array.from({ length: clocks }, (_, i) => ({ name: `c${i}`, type: "clock", schedule: "0 3 * * *", timezone: i % 2 ? "Europe/Berlin" : "UTC" })) }) as unknown as Formation;

describe("the Cron Triggers a Cloudflare deploy takes", () => {
  it("counts each clock's UTC crons, with both limits", () => {
    expect(cronTriggerNote(formationOf(2))).toBe("this stage's clocks take 2 Cron Triggers (c0 1, c1 1); Cloudflare allows 5 per account on Workers Free and 250 on Workers Paid, counting every Worker and stage of the account");
  });

  it("warns past Workers Free's 5, and past Workers Paid's 250", () => {
    expect(cronTriggerNote(formationOf(6))).toMatch(/^warning: this stage's clocks take 6 Cron Triggers \(.*\), more than the 5 of Workers Free: .*; on Free the deploy will be refused$/);
    expect(cronTriggerNote(formationOf(251))).toMatch(/^warning: this stage's clocks take 251 Cron Triggers .*, more than the 250 of Workers Paid: .*; the deploy will be refused$/);
  });
});
