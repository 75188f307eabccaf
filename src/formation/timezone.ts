// IANA time-zone helpers on top of Intl only, so they run unchanged in Node
// and in Cloudflare Workers (no tz database of our own to keep up to date).

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  /** 0..23 (never 24) */
  hour: number;
  minute: number;
  /** 0..6, Sunday = 0 */
  weekday: number;
}

// zonedParts runs on every clock tick; building a DateTimeFormat costs far
// more than formatting with one, so keep one per zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

let canonical: Set<string> | undefined;

export function isTimeZone(name: string): boolean {
  // Intl also accepts UTC offsets ("+02:00") as zones since ES2024; those
  // have no DST rules and are not IANA names, so reject anything not
  // starting with a letter.
  if (!/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/.test(name)) return false;
  // The canonical names are a cheap lookup; a first DateTimeFormat costs ~10 ms (ICU's zone
  // data), so only aliases ("UTC", "Asia/Calcutta") take that path.
  canonical ??= new Set(Intl.supportedValuesOf("timeZone"));
  if (canonical.has(name)) return true;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

export function zonedParts(date: Date | number, timeZone: string): ZonedParts {
  const ms = typeof date === "number" ? date : date.getTime();
  let year = 0;
  let month = 0;
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of formatter(timeZone).formatToParts(ms)) {
    switch (part.type) {
      case "year": year = Number(part.value); break;
      case "month": month = Number(part.value); break;
      case "day": day = Number(part.value); break;
      case "hour": hour = Number(part.value); break;
      case "minute": minute = Number(part.value); break;
      default: break;
    }
  }
  // Some older ICU builds still print midnight as "24" despite h23.
  if (hour === 24) hour = 0;
  // Weekday from the local calendar date rather than a localised name.
  const weekday = new Date(utcMs(year, month, day, 0, 0)).getUTCDay();
  return { year, month, day, hour, minute, weekday };
}

/** A time as its zone's clock shows it, to the minute, with the zone: "2026-12-03 03:00 Europe/Berlin". */
export function zonedMinute(date: Date | number, timeZone: string): string {
  const { year, month, day, hour, minute } = zonedParts(date, timeZone);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${year}-${two(month)}-${two(day)} ${two(hour)}:${two(minute)} ${timeZone}`;
}

/** Local wall-clock minus UTC, in minutes (+120 for Berlin in summer). */
export function offsetMinutes(date: Date | number, timeZone: string): number {
  const ms = typeof date === "number" ? date : date.getTime();
  const floored = Math.floor(ms / 60_000) * 60_000;
  const p = zonedParts(floored, timeZone);
  const local = utcMs(p.year, p.month, p.day, p.hour, p.minute);
  // Round: historical LMT offsets have seconds the minute parts cannot show.
  return Math.round((local - floored) / 60_000);
}

// Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
function utcMs(year: number, month: number, day: number, hour: number, minute: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, 0, 0);
  return d.getTime();
}
