import { describe, it, expect } from "vitest";
import { eventBridgeCron } from "../../adapters/aws/schedule.ts";
import { CrontabError, parseCrontab } from "../../src/formation/crontab.ts";

const aws = (line: string): string => eventBridgeCron(parseCrontab(line));

describe("eventBridgeCron", () => {
  it("puts ? in day-of-week for a daily job", () => {
    expect(aws("0 3 * * *")).toBe("cron(0 3 * * ? *)");
    expect(aws("@daily")).toBe("cron(0 0 * * ? *)");
    expect(aws("@hourly")).toBe("cron(0 * * * ? *)");
  });

  it("puts ? in day-of-month and numbers weekdays from SUN=1", () => {
    expect(aws("*/15 9-17 * * MON-FRI")).toBe("cron(0/15 9-17 ? * 2-6 *)");
    expect(aws("*/15 9-17 * * 1-5")).toBe("cron(0/15 9-17 ? * 2-6 *)");
    expect(aws("0 12 * * 0")).toBe("cron(0 12 ? * 1 *)");
    expect(aws("0 12 * * 7")).toBe("cron(0 12 ? * 1 *)");
    expect(aws("0 12 * * SAT")).toBe("cron(0 12 ? * 7 *)");
    expect(aws("0 12 * * SAT,SUN")).toBe("cron(0 12 ? * 1,7 *)");
    expect(aws("@weekly")).toBe("cron(0 0 ? * 1 *)");
  });

  it("never uses / in day-of-week, which EventBridge does not allow there", () => {
    expect(aws("0 8 * * */2")).toBe("cron(0 8 ? * 1,3,5,7 *)");
  });

  it("keeps day-of-month and puts ? in day-of-week for a monthly job", () => {
    expect(aws("0 0 1 * *")).toBe("cron(0 0 1 * ? *)");
    expect(aws("@yearly")).toBe("cron(0 0 1 1 ? *)");
    expect(aws("0 0 1,15 * *")).toBe("cron(0 0 1,15 * ? *)");
    expect(aws("0 0 */5 * *")).toBe("cron(0 0 1/5 * ? *)");
  });

  it("renders lists, runs and steps compactly", () => {
    expect(aws("0,30 8,12,18 * * *")).toBe("cron(0,30 8,12,18 * * ? *)");
    expect(aws("5,10,11,12,13 0-3,22 * JAN-MAR,DEC *")).toBe("cron(5,10-13 0-3,22 * 1-3,12 ? *)");
    expect(aws("0 */2 * * *")).toBe("cron(0 0/2 * * ? *)");
    expect(aws("10/20 * * */3 *")).toBe("cron(10/20 * * 1/3 ? *)");
    expect(aws("0-59 0-23 1-31 1-12 *")).toBe("cron(* * * * ? *)");
  });

  it("rejects cron's either-day rule when both day fields are restricted", () => {
    let err: unknown;
    try {
      aws("30 7 15 * MON");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CrontabError);
    const message = (err as CrontabError).message;
    expect(message).toContain("EventBridge Scheduler cannot express");
    expect(message).toContain("either day-of-month or day-of-week");
    expect(message).toContain("Restrict only one of them");
  });

  it("rejects a */n day-of-month combined with a weekday (cron ANDs those)", () => {
    expect(() => aws("0 0 */2 * MON")).toThrow(CrontabError);
  });

  it("accepts both restricted when one of them covers every day anyway", () => {
    expect(aws("0 0 1-31 * MON")).toBe("cron(0 0 * * ? *)");
  });
});
