// Standard 5-field crontab (Vixie/cronie dialect) for the clock process.
// Pure and portable: bundled into Cloudflare Workers, so no `node:` imports.

export type CrontabField = "minute" | "hour" | "day-of-month" | "month" | "day-of-week";

export interface Crontab {
  /** The line as written (trimmed), macros not expanded. */
  source: string;
  minutes: number[];
  hours: number[];
  daysOfMonth: number[];
  months: number[];
  /** 0..6, Sunday = 0 (a 7 in the source is folded into 0). */
  daysOfWeek: number[];
  /**
   * Vixie cron decides "restricted" by the text, not by the value set: a
   * field starting with `*` (so `*` and `*\/2`) is unrestricted. The
   * either-or day rule only applies when both day fields are restricted.
   */
  domRestricted: boolean;
  dowRestricted: boolean;
}

export class CrontabError extends Error {
  readonly field: CrontabField | "crontab";
  constructor(field: CrontabField | "crontab", message: string) {
    super(message);
    this.name = "CrontabError";
    this.field = field;
  }
}

const FIELD_ORDER = "minute hour day-of-month month day-of-week";

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const MONTH_WORDS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
/** The most days each month can have: 29 for February, as leap years have them. */
const MOST_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export const WEEKDAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;

interface FieldSpec {
  name: CrontabField;
  min: number;
  max: number;
  /** Names mapped to values, e.g. JAN -> 1. */
  names?: readonly string[];
  namesBase?: number;
  /** Human description of what the field accepts, used in errors. */
  allowed: string;
}

const SPECS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59, allowed: "0-59" },
  { name: "hour", min: 0, max: 23, allowed: "0-23" },
  { name: "day-of-month", min: 1, max: 31, allowed: "1-31" },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES, namesBase: 1, allowed: "1-12 or JAN-DEC" },
  // 0-7 so that both 0 and 7 mean Sunday, as in Vixie cron.
  { name: "day-of-week", min: 0, max: 7, names: WEEKDAY_NAMES, namesBase: 0, allowed: "0-7 (0 and 7 are Sunday) or SUN-SAT" },
];

const SYNTAX_HELP = "use *, a number, a range a-b, a step */n, a-b/n or a/n, or a comma-separated list of those";

/** Expands a macro like `@daily` to its 5 fields; returns other lines unchanged (trimmed). */
export function expandMacro(line: string): string {
  const trimmed = line.trim();
  if (!trimmed.startsWith("@")) return trimmed;
  const key = trimmed.toLowerCase();
  if (key === "@reboot") {
    throw new CrontabError("crontab", `"@reboot" is not a schedule (there is no machine to reboot); use a time such as "@daily" or "0 3 * * *"`);
  }
  const expanded = MACROS[key];
  if (expanded === undefined) {
    throw new CrontabError("crontab", `unknown macro "${trimmed}"; allowed: ${Object.keys(MACROS).join(" ")}`);
  }
  return expanded;
}

export function parseCrontab(line: string): Crontab {
  const source = line.trim();
  if (source === "") {
    throw new CrontabError("crontab", `crontab is empty; expected 5 fields (${FIELD_ORDER})`);
  }
  const fields = expandMacro(source).split(/\s+/);
  if (fields.length !== 5) {
    // A 6th/7th field usually means a seconds or year field from Quartz/EventBridge syntax.
    const hint = fields.length > 5 ? "; seconds and year fields are not supported" : "";
    throw new CrontabError("crontab", `expected 5 fields (${FIELD_ORDER}), got ${fields.length} in "${source}"${hint}`);
  }
  const sets = fields.map((text, i) => parseField(text, SPECS[i] as FieldSpec));
  const dow = (sets[4] as number[]).map((d) => (d === 7 ? 0 : d));
  const tab: Crontab = {
    source,
    minutes: sets[0] as number[],
    hours: sets[1] as number[],
    daysOfMonth: sets[2] as number[],
    months: sets[3] as number[],
    daysOfWeek: uniqueSorted(dow),
    domRestricted: !(fields[2] as string).startsWith("*"),
    dowRestricted: !(fields[4] as string).startsWith("*"),
  };
  refuseImpossibleDays(tab, fields[2] as string);
  return tab;
}

/**
 * Refuses a schedule whose days of the month never come in its months, such as `0 0 30 2 *`:
 * it would never run, and the clock would search years for its next run to find that out.
 * Only when the day fields are AND-ed: with both restricted, cron ORs them, and every month has
 * every weekday. (An unrestricted day-of-month, `*` or `*\/n`, always holds the 1st.)
 */
function refuseImpossibleDays(tab: Crontab, dayText: string): void {
  if (!tab.domRestricted || tab.dowRestricted) return;
  const mostDays = (month: number) => MOST_DAYS[month - 1] as number;
  const smallestDay = tab.daysOfMonth[0] as number;
  if (tab.months.some((month) => smallestDay <= mostDays(month))) return;
  const names = tab.months.map((month) => MONTH_WORDS[month - 1] as string);
  const months = names.length === 1 ? (names[0] as string) : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
  const these = names.length === 1 ? months : "those months";
  const longest = Math.max(...tab.months.map(mostDays));
  throw new CrontabError(
    "day-of-month",
    `day-of-month "${dayText}" never comes in ${months}, so this schedule would never run; use days that exist in ${these}: 1 to ${longest}`,
  );
}

function parseField(text: string, spec: FieldSpec): number[] {
  const values = new Set<number>();
  for (const item of text.split(",")) {
    if (item === "") {
      throw new CrontabError(spec.name, `${spec.name} "${text}" has an empty list item; ${SYNTAX_HELP}`);
    }
    for (const v of parseItem(item, spec)) values.add(v);
  }
  return uniqueSorted([...values]);
}

function parseItem(item: string, spec: FieldSpec): number[] {
  const slash = item.split("/");
  if (slash.length > 2) {
    throw new CrontabError(spec.name, `${spec.name} "${item}" is not valid; ${SYNTAX_HELP}`);
  }
  const [rangeText, stepText] = slash as [string, string | undefined];
  let step = 1;
  if (stepText !== undefined) {
    if (!/^\d+$/.test(stepText)) {
      throw new CrontabError(spec.name, `${spec.name} step "${item}" must be a whole number after "/"`);
    }
    step = Number(stepText);
    if (step === 0) {
      throw new CrontabError(spec.name, `${spec.name} step "${item}" must be at least 1`);
    }
  }
  let lo: number;
  let hi: number;
  if (rangeText === "*") {
    lo = spec.min;
    hi = spec.max;
  } else {
    const dash = rangeText.split("-");
    if (dash.length > 2 || dash.some((p) => p === "")) {
      throw new CrontabError(spec.name, `${spec.name} "${item}" is not valid; ${SYNTAX_HELP}`);
    }
    lo = parseValue(dash[0] as string, spec);
    if (dash.length === 2) {
      hi = parseValue(dash[1] as string, spec);
      if (hi < lo) {
        throw new CrontabError(spec.name, `${spec.name} range "${item}" is reversed; write the smaller value first, or split a wrap-around range into two (e.g. "${dash[0]}-${spec.max},${spec.min}-${dash[1]}")`);
      }
    } else {
      // `a/n` means a..max step n; a plain `a` is just a.
      hi = stepText === undefined ? lo : spec.max;
    }
  }
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

function parseValue(text: string, spec: FieldSpec): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < spec.min || n > spec.max) {
      throw new CrontabError(spec.name, `${spec.name} "${text}" is out of range ${spec.allowed}`);
    }
    return n;
  }
  if (spec.names !== undefined) {
    const idx = spec.names.indexOf(text.toUpperCase());
    if (idx >= 0) return idx + (spec.namesBase ?? 0);
  }
  // Checked after names because JUL ends in L.
  if (/^\?$|#|^L|L$|W$/i.test(text)) {
    throw new CrontabError(spec.name, `${spec.name} "${text}" uses Quartz syntax (? L W #) that standard crontab does not support; allowed: ${spec.allowed}`);
  }
  if (spec.names !== undefined) {
    throw new CrontabError(spec.name, `${spec.name} "${text}" is not a number or a name; allowed: ${spec.allowed}`);
  }
  throw new CrontabError(spec.name, `${spec.name} "${text}" is not a number; allowed: ${spec.allowed}`);
}

function uniqueSorted(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

export interface CalendarDay {
  day: number;
  month: number;
  /** 0..6, Sunday = 0 */
  weekday: number;
}

export interface WallClock extends CalendarDay {
  minute: number;
  hour: number;
}

export function matches(tab: Crontab, t: WallClock): boolean {
  return tab.minutes.includes(t.minute) && tab.hours.includes(t.hour) && matchesDay(tab, t);
}

/** True when the month and the day fields allow this date (the hours and minutes decide the rest). */
export function matchesDay(tab: Crontab, t: CalendarDay): boolean {
  if (!tab.months.includes(t.month)) return false;
  const domOk = tab.daysOfMonth.includes(t.day);
  const dowOk = tab.daysOfWeek.includes(t.weekday);
  // Vixie: two restricted day fields are OR-ed, otherwise AND-ed.
  return tab.domRestricted && tab.dowRestricted ? domOk || dowOk : domOk && dowOk;
}

export interface RenderOptions {
  /**
   * How an arithmetic progression that runs to the field max is written:
   * "start" -> `a/n` (EventBridge style, `0/15`); "star" -> `*\/n` when a is
   * the field min, else `a/n`; false -> never (EventBridge day-of-week has no `/`).
   */
  step?: "start" | "star" | false;
  /** Render values as names (names[value - min]) instead of numbers. */
  names?: readonly string[];
}

/**
 * Renders a set of values compactly for a cron field: full range -> `*`,
 * a progression to the max -> step syntax, otherwise a list of values and
 * `a-b` runs (runs of 3+; two neighbours stay a list).
 */
export function renderField(values: readonly number[], min: number, max: number, options: RenderOptions = {}): string {
  const vs = uniqueSorted([...values]);
  if (vs.length === 0) throw new RangeError("renderField: empty value set");
  for (const v of vs) {
    if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`renderField: ${v} is outside ${min}-${max}`);
  }
  if (vs.length === max - min + 1) return "*";
  const label = (v: number): string => (options.names ? (options.names[v - min] ?? String(v)) : String(v));
  const stepStyle = options.step ?? "start";
  if (stepStyle !== false && vs.length >= 3) {
    const first = vs[0] as number;
    const n = (vs[1] as number) - first;
    const last = vs[vs.length - 1] as number;
    const isProgression = n > 1 && vs.every((v, i) => v === first + i * n) && last + n > max;
    if (isProgression) {
      return stepStyle === "star" && first === min ? `*/${n}` : `${label(first)}/${n}`;
    }
  }
  const parts: string[] = [];
  let i = 0;
  while (i < vs.length) {
    let j = i;
    while (j + 1 < vs.length && (vs[j + 1] as number) === (vs[j] as number) + 1) j++;
    if (j - i >= 2) {
      parts.push(`${label(vs[i] as number)}-${label(vs[j] as number)}`);
    } else {
      for (let k = i; k <= j; k++) parts.push(label(vs[k] as number));
    }
    i = j + 1;
  }
  return parts.join(",");
}
