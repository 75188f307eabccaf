import { describe, expect, it } from "vitest";
import { scheduleInWords } from "../../src/formation/crontab-words.ts";

// The schedule in words on twelve dev's dashboard, beside the crontab itself.
describe("scheduleInWords", () => {
  it.each([
    ["* * * * *", "every minute"],
    ["*/5 * * * *", "every 5 minutes"],
    ["0 3 * * *", "at 03:00, every day"],
    ["@daily", "at 00:00, every day"],
    ["30 9 * * 1-5", "at 09:30, Monday to Friday"],
    ["0 9,17 * * *", "at 09:00 and 17:00, every day"],
    ["15 * * * *", "every hour at :15"],
    ["0 */6 * * *", "every 6 hours at :00"],
    ["0 0 1 * *", "at 00:00, on day 1 of the month"],
    ["0 12 * 1,7 SUN", "at 12:00, on Sunday in January and July"],
    ["0 0 13 * 5", "at 00:00, on day 13 of the month or on Friday"],
    ["* 9-17 * * *", "every minute from 09:00 to 17:59"],
  ])("%s is %s", (line, words) => {
    expect(scheduleInWords(line)).toBe(words);
  });
});
