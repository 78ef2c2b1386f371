/**
 * When a schedule starts its syncs (`--every`, `--cron`, `--timezone`), checked before anything reaches Temporal,
 * and the rule that keeps a waiting plan from eating the next run: the approval timeout must be shorter than the
 * time between two runs (overlap policy skip: a run still waiting for approval makes the next one skip).
 */
import { formatDuration } from '../domain/duration';
import { isTimeZone, nextCronTimes, parseCron, shortestGap } from '../domain/cron';
import { CliError, EXIT } from '../domain/exit-codes';

export interface ScheduleSpecOption {
  everyMs?: number;
  cron?: string;
  timezone?: string;
}

export interface CompiledScheduleSpec {
  intervals?: { every: number }[];
  cronExpressions?: string[];
  timezone?: string;
  /** How the schedule reads for people: `every 24 h`, `cron "0 2 * * *" (Europe/Berlin)`. */
  text: string;
}

const usage = (message: string): CliError => new CliError(message, EXIT.usage);

/** `--every` or `--cron`, exactly one; a cron expression has 5 to 7 fields or is one of Temporal's @-shorthands. */
export function scheduleSpec(option: ScheduleSpecOption, command = 'schedule create'): CompiledScheduleSpec {
  if ((option.everyMs === undefined) === (option.cron === undefined)) {
    throw usage(`${command}: expected exactly one of --every <duration> and --cron "<expr>"`);
  }
  if (option.timezone !== undefined && !isTimeZone(option.timezone)) {
    throw usage(`--timezone: unknown time zone ${JSON.stringify(option.timezone)} (expected an IANA name such as Europe/Berlin or UTC)`);
  }
  if (option.everyMs !== undefined) {
    if (option.timezone !== undefined) throw usage('--timezone: only with --cron (an --every interval runs in no time zone)');
    if (option.everyMs < 60_000) throw usage('--every: expected at least 1m (a sync collects for a window, then waits for approval)');
    return { intervals: [{ every: option.everyMs }], timezone: undefined, text: `every ${formatDuration(option.everyMs)}` };
  }
  const cron = option.cron!.trim();
  const fields = cron.replace(/^(?:CRON_TZ|TZ)=\S+\s+/, '').replace(/#.*$/, '').trim().split(/\s+/).length;
  if (!(cron.startsWith('@') || (fields >= 5 && fields <= 7))) {
    throw usage(`--cron: expected 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", or @daily/@hourly (got ${JSON.stringify(cron)})`);
  }
  if (option.timezone !== undefined && /^(?:CRON_TZ|TZ)=/.test(cron)) throw usage('--cron names its time zone (CRON_TZ=…); --timezone contradicts it: give one');
  return { cronExpressions: [cron], timezone: option.timezone, text: `cron "${cron}"${option.timezone ? ` (${option.timezone})` : ' (UTC)'}` };
}

/** How many next times the shortest gap is taken over: enough for a weekday-only or twice-a-month calendar. */
const NEXT_TIMES = 12;

/**
 * The shortest time between two runs of the spec: the interval, or the shortest gap between the cron's next few
 * times in its zone. Undefined when it cannot be told here (a cron this reader does not know, or fewer than 2 times).
 */
export function shortestInterval(option: ScheduleSpecOption, nowMs: number = Date.now()): number | undefined {
  if (option.everyMs !== undefined) return option.everyMs;
  const parsed = option.cron === undefined ? undefined : parseCron(option.cron);
  if (parsed === undefined) return undefined;
  if ('everyMs' in parsed) return parsed.everyMs;
  return shortestGap(nextCronTimes(parsed.calendar, nowMs, NEXT_TIMES, option.timezone ?? parsed.timezone ?? 'UTC'));
}

export interface ApprovalTimeoutRule {
  approvalTimeoutMs: number;
  /** Where the timeout came from, as the operator set it: `--approval-timeout` or `APPROVAL_TIMEOUT`. */
  source: string;
  /** The shortest time between two runs; undefined when unknown (nothing to check). */
  intervalMs: number | undefined;
  specText: string;
  force?: boolean;
}

/**
 * Refuses an approval timeout at or above the time between two runs (exit 2, both in people's units); with
 * `force`, returns the warning to print instead. Undefined when the rule holds.
 */
export function checkApprovalTimeout(rule: ApprovalTimeoutRule): string | undefined {
  if (rule.intervalMs === undefined || rule.approvalTimeoutMs < rule.intervalMs) return undefined;
  const problem =
    `the approval timeout, ${formatDuration(rule.approvalTimeoutMs)} (${rule.source}), is not shorter than the time between two runs, ` +
    `${formatDuration(rule.intervalMs)} (${rule.specText}): a run still waiting for approval makes the next one skip`;
  if (rule.force) return `Warning: ${problem}; kept because of --force.`;
  throw usage(`Refused: ${problem}. Set a shorter --approval-timeout (or APPROVAL_TIMEOUT), or pass --force to keep it.`);
}
