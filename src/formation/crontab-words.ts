import { parseCrontab, type Crontab } from "./crontab.ts";

// A crontab line in words, for people (twelve dev's dashboard): "every 5 minutes",
// "at 03:00 every day", "at 09:00, Monday to Friday". What has no short wording is said
// field by field rather than guessed.

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

export function scheduleInWords(line: string): string {
  const tab = parseCrontab(line);
  const times = timesInWords(tab);
  const days = daysInWords(tab);
  // "every 5 minutes" says every day already.
  return days === "every day" && times.startsWith("every ") ? times : `${times}, ${days}`;
}

function timesInWords(tab: Crontab): string {
  const { minutes, hours } = tab;
  const everyHour = hours.length === 24;
  if (minutes.length === 60 && everyHour) return "every minute";
  const minuteStep = stepOf(minutes, 60);
  if (everyHour && minuteStep !== undefined) return `every ${minuteStep} minutes`;
  if (everyHour) return `every hour at ${list(minutes.map((m) => `:${two(m)}`))}`;
  if (minutes.length === 60) return `every minute from ${two(hours[0] as number)}:00 to ${two(hours.at(-1) as number)}:59`;
  const hourStep = stepOf(hours, 24);
  if (hourStep !== undefined && minutes.length === 1) return `every ${hourStep} hours at :${two(minutes[0] as number)}`;
  if (minutes.length * hours.length <= 6) return `at ${list(hours.flatMap((h) => minutes.map((m) => `${two(h)}:${two(m)}`)))}`;
  return `at minute ${list(minutes.map(String))} of hour ${list(hours.map(String))}`;
}

function daysInWords(tab: Crontab): string {
  const months = tab.months.length === 12 ? "" : ` in ${list(tab.months.map((m) => MONTHS[m - 1] as string))}`;
  const weekdays = weekdaysInWords(tab.daysOfWeek);
  const dates = `on day ${list(tab.daysOfMonth.map(String))} of the month`;
  // Vixie cron: with both day fields restricted, a day matching either one runs.
  if (tab.domRestricted && tab.dowRestricted) return `${dates} or ${weekdays}${months}`;
  if (tab.domRestricted) return `${dates}${months}`;
  if (tab.dowRestricted) return `${weekdays}${months}`;
  return months ? `every day${months}` : "every day";
}

function weekdaysInWords(days: number[]): string {
  const names = days.map((d) => DAYS[d] as string);
  const contiguous = days.length > 2 && days.every((d, i) => i === 0 || d === (days[i - 1] as number) + 1);
  if (contiguous) return `${names[0]} to ${names.at(-1)}`;
  return `on ${list(names)}`;
}

/** n when the values are 0, n, 2n... up to `size` (n > 1), else undefined. */
function stepOf(values: number[], size: number): number | undefined {
  const step = (values[1] ?? 0) - (values[0] ?? 0);
  if (values[0] !== 0 || step < 2 || size % step !== 0 || values.length !== size / step) return undefined;
  return values.every((v, i) => v === i * step) ? step : undefined;
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

const two = (n: number) => String(n).padStart(2, "0");
