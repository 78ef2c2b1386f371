/**
 * The CLI's option values, each parsed and checked once, here. Commander calls these parsers; an
 * InvalidArgumentError becomes its usage error (exit 2).
 */
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../domain/duration';
import { MAX_COLLECTORS } from '../shared';
import { isTimeZone } from '../domain/cron';
import { isListPhase, LIST_PHASES, type ListPhase } from '../client/list';
import { PLAN_FORMATS, type PlanFormat } from './plan-export';

export function collectorsOption(value: string): number {
  const n = /^\d{1,3}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_COLLECTORS)) throw new InvalidArgumentError(`expected a whole number of collectors from 1 to ${MAX_COLLECTORS}`);
  return n;
}

export function durationOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('expected a positive duration in milliseconds or with a unit (500ms, 90s, 15m, 24h)');
  return ms;
}

/** `list --phase`: a sync's phase or a watch's. */
export function phaseOption(value: string): ListPhase {
  if (!isListPhase(value)) throw new InvalidArgumentError(`expected one of ${LIST_PHASES.join(', ')}`);
  return value;
}

/** `--since`: a duration ago or a date; `nowMs` for tests. */
export function sinceOption(value: string, nowMs: number = Date.now()): Date {
  const ago = parseDuration(value);
  if (ago !== undefined && ago > 0) return new Date(nowMs - ago);
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : undefined;
  if (date && !Number.isNaN(date.getTime())) return date;
  throw new InvalidArgumentError('expected a duration ago (24h, 7d) or a date (2026-11-28, 2026-11-28T06:00:00Z)');
}

export function limitOption(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a whole number from 1 to 10000');
  return n;
}

/** `--auto-approve-max-points`, `--auto-approve-max-stations`. */
export function countOption(value: string): number {
  const n = /^\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!(n >= 1)) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

export function planFormatOption(value: string): PlanFormat {
  if (!(PLAN_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${PLAN_FORMATS.join(', ')}`);
  return value as PlanFormat;
}

/** `list --database`: a database name as OCPP_MYSQL_DATABASE takes it (so it goes into a visibility query as it is). */
export function databaseOption(value: string): string {
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(value)) throw new InvalidArgumentError('expected a database name of letters, digits, _, $ or - (at most 64)');
  return value;
}

/** `--timezone`: an IANA time zone, as Temporal Schedules take it. */
export function timezoneOption(value: string): string {
  if (!isTimeZone(value)) throw new InvalidArgumentError('expected an IANA time zone such as Europe/Berlin or UTC');
  return value;
}
