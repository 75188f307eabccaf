import { describe, it, expect } from "vitest";
import { CrontabError, matches, parseCrontab, renderField } from "../../src/formation/crontab.ts";

const range = (a: number, b: number, step = 1): number[] => {
  const out: number[] = [];
  for (let v = a; v <= b; v += step) out.push(v);
  return out;
};

function errorOf(line: string): CrontabError {
  try {
    parseCrontab(line);
  } catch (e) {
    expect(e).toBeInstanceOf(CrontabError);
    return e as CrontabError;
  }
  throw new Error(`expected "${line}" to be rejected`);
}

describe("parseCrontab", () => {
  it("parses * into the full range of every field", () => {
    const tab = parseCrontab("* * * * *");
    expect(tab.minutes).toEqual(range(0, 59));
    expect(tab.hours).toEqual(range(0, 23));
    expect(tab.daysOfMonth).toEqual(range(1, 31));
    expect(tab.months).toEqual(range(1, 12));
    expect(tab.daysOfWeek).toEqual(range(0, 6));
    expect(tab.domRestricted).toBe(false);
    expect(tab.dowRestricted).toBe(false);
    expect(tab.source).toBe("* * * * *");
  });

  it("parses numbers, ranges, steps and lists, sorted and unique", () => {
    const tab = parseCrontab("  5,1,5,3-4 */6 1-10/3 2/5 *  ");
    expect(tab.source).toBe("5,1,5,3-4 */6 1-10/3 2/5 *");
    expect(tab.minutes).toEqual([1, 3, 4, 5]);
    expect(tab.hours).toEqual([0, 6, 12, 18]);
    expect(tab.daysOfMonth).toEqual([1, 4, 7, 10]);
    // a/n runs from a to the field maximum
    expect(tab.months).toEqual([2, 7, 12]);
  });

  it("accepts tabs and several spaces between fields", () => {
    expect(parseCrontab("0\t3 \t * *   *").hours).toEqual([3]);
  });

  it("accepts month and day names in any case, also in ranges and lists", () => {
    const tab = parseCrontab("0 9 * jan,Mar-MAY mon-FRI");
    expect(tab.months).toEqual([1, 3, 4, 5]);
    expect(tab.daysOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(parseCrontab("0 0 * * SUN,sat").daysOfWeek).toEqual([0, 6]);
    expect(parseCrontab("0 0 * * MON-5").daysOfWeek).toEqual([1, 2, 3, 4, 5]);
  });

  it("treats both 0 and 7 as Sunday", () => {
    expect(parseCrontab("0 12 * * 0").daysOfWeek).toEqual([0]);
    expect(parseCrontab("0 12 * * 7").daysOfWeek).toEqual([0]);
    expect(parseCrontab("0 12 * * 5-7").daysOfWeek).toEqual([0, 5, 6]);
    expect(parseCrontab("0 12 * * 0-7").daysOfWeek).toEqual(range(0, 6));
  });

  it("expands macros", () => {
    const cases: Record<string, [number[], number[], number[], number[], number[]]> = {
      "@yearly": [[0], [0], [1], [1], range(0, 6)],
      "@annually": [[0], [0], [1], [1], range(0, 6)],
      "@monthly": [[0], [0], [1], range(1, 12), range(0, 6)],
      "@weekly": [[0], [0], range(1, 31), range(1, 12), [0]],
      "@daily": [[0], [0], range(1, 31), range(1, 12), range(0, 6)],
      "@midnight": [[0], [0], range(1, 31), range(1, 12), range(0, 6)],
      "@hourly": [[0], range(0, 23), range(1, 31), range(1, 12), range(0, 6)],
    };
    for (const [macro, [mi, h, dom, mo, dow]] of Object.entries(cases)) {
      const tab = parseCrontab(macro);
      expect(tab.source).toBe(macro);
      expect([tab.minutes, tab.hours, tab.daysOfMonth, tab.months, tab.daysOfWeek]).toEqual([mi, h, dom, mo, dow]);
    }
    expect(parseCrontab("@weekly").dowRestricted).toBe(true);
    expect(parseCrontab("@DAILY").hours).toEqual([0]);
  });

  it("marks a day field restricted unless it starts with * (Vixie rule)", () => {
    expect(parseCrontab("0 0 1 * *")).toMatchObject({ domRestricted: true, dowRestricted: false });
    expect(parseCrontab("0 0 * * 1")).toMatchObject({ domRestricted: false, dowRestricted: true });
    expect(parseCrontab("0 0 */2 * 1")).toMatchObject({ domRestricted: false, dowRestricted: true });
    expect(parseCrontab("0 0 * * */2")).toMatchObject({ dowRestricted: false });
    expect(parseCrontab("0 0 1-31 * *")).toMatchObject({ domRestricted: true });
  });

  it("rejects a wrong number of fields, naming the fields", () => {
    const six = errorOf("0 0 12 * * ?");
    expect(six.field).toBe("crontab");
    expect(six.message).toContain("expected 5 fields (minute hour day-of-month month day-of-week), got 6");
    expect(errorOf("0 0 *").message).toContain("got 3");
  });

  it("rejects an empty line and @reboot and unknown macros", () => {
    expect(errorOf("").message).toContain("empty");
    expect(errorOf("   ").message).toContain("empty");
    expect(errorOf("@reboot").message).toContain("not a schedule");
    const unknown = errorOf("@fortnightly");
    expect(unknown.message).toContain('"@fortnightly"');
    expect(unknown.message).toContain("@daily");
  });

  it("rejects out-of-range values, quoting them and naming the field", () => {
    const e = errorOf("61 * * * *");
    expect(e.field).toBe("minute");
    expect(e.message).toBe('minute "61" is out of range 0-59');
    expect(errorOf("0 24 * * *").message).toBe('hour "24" is out of range 0-23');
    expect(errorOf("0 0 0 * *").message).toBe('day-of-month "0" is out of range 1-31');
    expect(errorOf("0 0 32 * *").field).toBe("day-of-month");
    expect(errorOf("0 0 * 13 *").message).toBe('month "13" is out of range 1-12 or JAN-DEC');
    const dow = errorOf("0 0 * * 8");
    expect(dow.field).toBe("day-of-week");
    expect(dow.message).toContain('day-of-week "8" is out of range 0-7');
  });

  it("rejects unknown names and bad syntax, saying what is allowed", () => {
    const e = errorOf("0 0 * * FUNDAY");
    expect(e.field).toBe("day-of-week");
    expect(e.message).toContain('"FUNDAY"');
    expect(e.message).toContain("SUN-SAT");
    expect(errorOf("0 0 * JUNE *").message).toContain("JAN-DEC");
    expect(errorOf("x * * * *").message).toContain('minute "x"');
    expect(errorOf("1,,2 * * * *").message).toContain("empty list item");
    expect(errorOf("1-2-3 * * * *").field).toBe("minute");
    expect(errorOf("*/5/2 * * * *").field).toBe("minute");
    expect(errorOf("- * * * *").field).toBe("minute");
    expect(errorOf("0 0 * * MON-SUN").message).toContain("reversed");
  });

  it("rejects Quartz-only syntax with a hint", () => {
    expect(errorOf("0 0 ? * MON").message).toContain("Quartz");
    expect(errorOf("0 0 L * *").message).toContain("Quartz");
    expect(errorOf("0 0 15W * *").message).toContain("Quartz");
    expect(errorOf("0 0 * * MON#2").message).toContain("Quartz");
    expect(errorOf("0 0 * * 5L").field).toBe("day-of-week");
  });

  it("rejects steps of 0 and non-numeric steps", () => {
    const e = errorOf("*/0 * * * *");
    expect(e.field).toBe("minute");
    expect(e.message).toContain('"*/0"');
    expect(e.message).toContain("at least 1");
    expect(errorOf("0 1-5/0 * * *").field).toBe("hour");
    expect(errorOf("0 */x * * *").field).toBe("hour");
    expect(errorOf("0 */ * * *").field).toBe("hour");
  });

  it("rejects days of the month that never come in the months listed, saying what to use", () => {
    const e = errorOf("0 0 30 2 *");
    expect(e.field).toBe("day-of-month");
    expect(e.message).toBe('day-of-month "30" never comes in February, so this schedule would never run; use days that exist in February: 1 to 29');
    expect(errorOf("0 0 30,31 FEB *").message).toContain('day-of-month "30,31" never comes in February');
    expect(errorOf("0 0 31 4,6,9,11 *").message).toBe(
      'day-of-month "31" never comes in April, June, September or November, so this schedule would never run; use days that exist in those months: 1 to 30',
    );
    // The day-of-week field AND-ed with it (not restricted by its text) does not help.
    expect(errorOf("0 0 30 2 */2").field).toBe("day-of-month");
  });

  it("accepts days that come in some of the months listed, or in leap years only", () => {
    expect(parseCrontab("0 0 29 2 *").daysOfMonth).toEqual([29]);
    expect(parseCrontab("0 0 29 2 */7").daysOfWeek).toEqual([0]);
    expect(parseCrontab("0 0 31 2,3 *").months).toEqual([2, 3]);
    expect(parseCrontab("0 0 28-31 2 *").daysOfMonth).toEqual([28, 29, 30, 31]);
  });

  it("accepts an impossible day of the month when a restricted day-of-week is OR-ed with it", () => {
    // Vixie cron runs this on every Monday of February.
    expect(parseCrontab("0 0 30 2 MON")).toMatchObject({ domRestricted: true, dowRestricted: true, daysOfWeek: [1] });
  });

  it("rejects reversed ranges and suggests the wrap-around split", () => {
    const e = errorOf("0 22-2 * * *");
    expect(e.field).toBe("hour");
    expect(e.message).toContain('hour range "22-2" is reversed');
    expect(e.message).toContain("22-23,0-2");
  });
});

describe("matches", () => {
  const at = (minute: number, hour: number, day: number, month: number, weekday: number) => ({ minute, hour, day, month, weekday });

  it("checks minute, hour and month", () => {
    const tab = parseCrontab("30 9 * JUN *");
    expect(matches(tab, at(30, 9, 1, 6, 1))).toBe(true);
    expect(matches(tab, at(31, 9, 1, 6, 1))).toBe(false);
    expect(matches(tab, at(30, 10, 1, 6, 1))).toBe(false);
    expect(matches(tab, at(30, 9, 1, 7, 1))).toBe(false);
  });

  it("ANDs the day fields when only one is restricted", () => {
    const weekdays = parseCrontab("0 9 * * MON-FRI");
    expect(matches(weekdays, at(0, 9, 15, 6, 1))).toBe(true);
    expect(matches(weekdays, at(0, 9, 15, 6, 0))).toBe(false);
    const first = parseCrontab("0 0 1 * *");
    expect(matches(first, at(0, 0, 1, 3, 4))).toBe(true);
    expect(matches(first, at(0, 0, 2, 3, 4))).toBe(false);
  });

  it("ORs the day fields when both are restricted (Vixie)", () => {
    const tab = parseCrontab("30 7 15 * 0");
    expect(matches(tab, at(30, 7, 15, 5, 3))).toBe(true); // the 15th, a Wednesday
    expect(matches(tab, at(30, 7, 3, 5, 0))).toBe(true); // a Sunday, the 3rd
    expect(matches(tab, at(30, 7, 3, 5, 3))).toBe(false);
  });

  it("ANDs when a day field is a */n step, as Vixie does", () => {
    const tab = parseCrontab("0 0 */2 * 1");
    expect(matches(tab, at(0, 0, 3, 5, 1))).toBe(true);
    expect(matches(tab, at(0, 0, 4, 5, 1))).toBe(false);
    expect(matches(tab, at(0, 0, 3, 5, 2))).toBe(false);
  });
});

describe("renderField", () => {
  it("writes the full range as *", () => {
    expect(renderField(range(0, 59), 0, 59)).toBe("*");
  });
  it("writes a progression to the max as a/n, or */n in star style", () => {
    expect(renderField([0, 15, 30, 45], 0, 59)).toBe("0/15");
    expect(renderField([0, 15, 30, 45], 0, 59, { step: "star" })).toBe("*/15");
    expect(renderField([5, 20, 35, 50], 0, 59, { step: "star" })).toBe("5/15");
    expect(renderField([0, 15, 30, 45], 0, 59, { step: false })).toBe("0,15,30,45");
  });
  it("does not use a step when the progression stops early", () => {
    expect(renderField([0, 10, 20], 0, 59)).toBe("0,10,20");
  });
  it("writes runs of three or more as a-b and mixes them with single values", () => {
    expect(renderField([9, 10, 11, 12, 13, 14, 15, 16, 17], 0, 23)).toBe("9-17");
    expect(renderField([1, 2, 5, 7, 8, 9, 20], 0, 23)).toBe("1,2,5,7-9,20");
    expect(renderField([30, 0, 30], 0, 59)).toBe("0,30");
  });
  it("can write names", () => {
    const names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    expect(renderField([1, 2, 3, 4, 5], 0, 6, { names, step: false })).toBe("MON-FRI");
    expect(renderField([6, 0], 0, 6, { names, step: false })).toBe("SUN,SAT");
  });
  it("rejects values outside the field and empty sets", () => {
    expect(() => renderField([60], 0, 59)).toThrow(RangeError);
    expect(() => renderField([], 0, 59)).toThrow(RangeError);
  });
});
