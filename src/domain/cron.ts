/**
 * The times a Temporal cron string fires, computed here so that `schedule create`/`update` can check them before the
 * schedule exists. Temporal's dialect: 5 fields (minute hour day-of-month month day-of-week), 6 (+ year) or 7
 * (second first, year last); @yearly/@monthly/@weekly/@daily/@hourly; day-of-month AND day-of-week (not "or");
 * a trailing "# comment"; a leading CRON_TZ=<zone> or TZ=<zone>. `@every` is an interval, not a calendar.
 */
import { parseDuration } from '../domain/duration';

export interface CronCalendar {
  seconds: number[];
  minutes: number[];
  hours: number[];
  daysOfMonth: Set<number>;
  months: Set<number>;
  /** 0 = Sunday. */
  daysOfWeek: Set<number>;
  years?: Set<number>;
}

export type ParsedCron = { calendar: CronCalendar; timezone?: string } | { everyMs: number; timezone?: string };

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function valueOf(text: string, names?: string[], nameBase = 0): number | undefined {
  if (names && /^[a-z]{3}$/i.test(text)) {
    const named = names.indexOf(text.toLowerCase());
    return named >= 0 ? named + nameBase : undefined;
  }
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** One field: `*`, `?`, `5`, `1-5`, `*\/15`, `10/5`, `1-30/5`, names, lists of these. Undefined when unreadable. */
function field(text: string, min: number, max: number, names?: string[], nameBase = 0): number[] | undefined {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!(Number.isInteger(step) && step >= 1) || range === undefined) return undefined;
    let start = min;
    let end = max;
    if (range !== '*' && range !== '?') {
      const [from, to] = range.split('-');
      const first = valueOf(from ?? '', names, nameBase);
      const last = to === undefined ? (stepText === undefined ? first : max) : valueOf(to, names, nameBase);
      if (first === undefined || last === undefined) return undefined;
      start = first;
      end = last;
    }
    if (start < min || end > max || start > end) return undefined;
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** Reads a Temporal cron string; undefined for what this reader does not know (the server may still take it). */
export function parseCron(expression: string): ParsedCron | undefined {
  let text = expression.replace(/#.*$/, '').trim();
  const zone = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(text);
  const timezone = zone?.[1];
  if (zone) text = text.slice(zone[0].length).trim();
  const every = /^@every\s+(\S+?)(?:\/\S+)?$/.exec(text);
  if (every) {
    const everyMs = parseDuration(every[1]!);
    return everyMs !== undefined && everyMs > 0 ? { everyMs, timezone } : undefined;
  }
  const fields = (SHORTHANDS[text.toLowerCase()] ?? text).split(/\s+/);
  if (fields.length < 5 || fields.length > 7) return undefined;
  const [second, minute, hour, dom, month, dow, year] = fields.length === 7 ? fields : ['0', ...fields];
  const parsed = {
    seconds: field(second!, 0, 59),
    minutes: field(minute!, 0, 59),
    hours: field(hour!, 0, 23),
    daysOfMonth: field(dom!, 1, 31),
    months: field(month!, 1, 12, MONTH_NAMES, 1),
    daysOfWeek: field(dow!, 0, 7, DAY_NAMES)?.map((d) => d % 7),
    years: year === undefined ? [] : field(year, 1970, 2999),
  };
  const { seconds, minutes, hours, daysOfMonth, months, daysOfWeek, years } = parsed;
  if (!seconds || !minutes || !hours || !daysOfMonth || !months || !daysOfWeek || !years) return undefined;
  const calendar: CronCalendar = { seconds, minutes, hours, daysOfMonth: new Set(daysOfMonth), months: new Set(months), daysOfWeek: new Set(daysOfWeek) };
  if (year !== undefined && year !== '*') calendar.years = new Set(years);
  return { calendar, timezone };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock of `atMs` in `timezone`, as if it were UTC (so that subtracting gives the zone's offset). */
function wallClockMs(atMs: number, timezone: string): number {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timezone, format);
  }
  const part = Object.fromEntries(format.formatToParts(new Date(atMs)).map((p) => [p.type, Number(p.value)]));
  return Date.UTC(part.year!, part.month! - 1, part.day, part.hour, part.minute, part.second);
}

/** The instant a wall-clock time of `timezone` names; undefined for a time that a DST change skips (Temporal skips it too). */
function instantOf(wallMs: number, timezone: string): number | undefined {
  const guess = wallMs - (wallClockMs(wallMs, timezone) - wallMs);
  const at = wallMs - (wallClockMs(guess, timezone) - guess);
  return wallClockMs(at, timezone) === wallMs ? at : undefined;
}

const DAY_MS = 86_400_000;
/** How far ahead to look: a calendar that fires less than this often is not one a sync runs on. */
const HORIZON_DAYS = 4 * 366;

/** The next `count` times after `fromMs` at which the calendar fires in `timezone` (IANA, default UTC). */
export function nextCronTimes(calendar: CronCalendar, fromMs: number, count: number, timezone = 'UTC'): number[] {
  const times: number[] = [];
  const today = Math.floor(wallClockMs(fromMs, timezone) / DAY_MS) * DAY_MS;
  for (let day = today; day < today + HORIZON_DAYS * DAY_MS && times.length < count; day += DAY_MS) {
    const date = new Date(day);
    if (calendar.years && !calendar.years.has(date.getUTCFullYear())) continue;
    if (!calendar.months.has(date.getUTCMonth() + 1) || !calendar.daysOfMonth.has(date.getUTCDate()) || !calendar.daysOfWeek.has(date.getUTCDay())) continue;
    for (const hour of calendar.hours) {
      for (const minute of calendar.minutes) {
        for (const second of calendar.seconds) {
          const at = instantOf(day + ((hour * 60 + minute) * 60 + second) * 1000, timezone);
          if (at !== undefined && at > fromMs) times.push(at);
          if (times.length >= count) return times;
        }
      }
    }
  }
  return times;
}

/** The shortest time between consecutive ones; undefined for fewer than two. */
export function shortestGap(times: readonly number[]): number | undefined {
  let gap: number | undefined;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap ?? Infinity, times[i]! - times[i - 1]!);
  return gap;
}

/** `2026-11-29 02:00 Europe/Berlin`: a time as the zone's clock shows it. */
export function formatInZone(iso: string, timezone: string): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const wall = new Date(wallClockMs(at, timezone)).toISOString();
  const seconds = wall.slice(16, 19) === ':00' ? '' : wall.slice(16, 19);
  return `${wall.slice(0, 10)} ${wall.slice(11, 16)}${seconds} ${timezone}`;
}

/** True for a zone name the runtime knows (Temporal's server loads the same IANA database). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
