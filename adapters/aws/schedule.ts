// Build-time: turns a parsed crontab into an EventBridge Scheduler cron
// expression. The time zone is not encoded here: EventBridge Scheduler takes
// it separately (ScheduleExpressionTimezone) and, like our Cloudflare gate,
// skips times in the spring-forward gap and runs fall-back times once.
import { CrontabError, renderField } from "../../src/formation/crontab.ts";
import type { Crontab } from "../../src/formation/crontab.ts";

/** `cron(min hour dom month dow year)`, EventBridge dialect. */
export function eventBridgeCron(tab: Crontab): string {
  const minutes = renderField(tab.minutes, 0, 59);
  const hours = renderField(tab.hours, 0, 23);
  const months = renderField(tab.months, 1, 12);
  const [dom, dow] = dayFields(tab);
  return `cron(${minutes} ${hours} ${dom} ${months} ${dow} *)`;
}

// EventBridge wants exactly one of day-of-month / day-of-week to be `?`, so
// only a schedule that constrains at most one of them can be expressed.
function dayFields(tab: Crontab): [string, string] {
  const allDom = tab.daysOfMonth.length === 31;
  const allDow = tab.daysOfWeek.length === 7;
  if (tab.domRestricted && tab.dowRestricted) {
    // Cron OR-s the two; if either already covers every day, so does the OR.
    if (allDom || allDow) return ["*", "?"];
    throw new CrontabError(
      "day-of-week",
      `"${tab.source}" restricts both day-of-month and day-of-week, which cron reads as "either day-of-month or day-of-week"; ` +
        `EventBridge Scheduler cannot express that rule (one of the two must be "?"). Restrict only one of them, or use two clock entries.`,
    );
  }
  // Otherwise cron AND-s them (a `*`-prefixed field like `*/2` still narrows).
  if (!allDom && !allDow) {
    throw new CrontabError(
      "day-of-week",
      `"${tab.source}" narrows both day-of-month and day-of-week ("*/n" still narrows), which cron reads as "both must match"; ` +
        `EventBridge Scheduler cannot express that (one of the two must be "?"). Restrict only one of them.`,
    );
  }
  if (!allDow) {
    // EventBridge numbers days 1-7 with SUN=1, and its day-of-week has no `/`.
    return ["?", renderField(tab.daysOfWeek.map((d) => d + 1), 1, 7, { step: false })];
  }
  return [renderField(tab.daysOfMonth, 1, 31), "?"];
}
