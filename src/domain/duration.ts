/**
 * Durations, read from operators and written for them. Parsing is `ms`'s (plus sums of its terms, so that what
 * formatDuration writes reads back); writing is humanize-duration's, in the units people use on a console.
 */
import ms from 'ms';
import humanizeDuration from 'humanize-duration';

const TERM = /(\d+(?:\.\d+)?)\s*([a-z]*)/gi;
/** ms's parser, typed for both its lines: 2.x answers undefined for what it cannot read, 3.x NaN. */
const parseTerm = ms as unknown as (text: string) => number | undefined;
const TERMS = /^\s*(?:\d+(?:\.\d+)?\s*[a-z]*\s*)+$/i;

/**
 * Parses `60000` (milliseconds, as the original COLLECTOR_DURATION), a number with a unit (`500ms`, `8s`, `30 s`,
 * `15m`, `30min`, `24h`, `7d`, `1w`) or a sum of them (`1 h 30 min`). Undefined for anything else, and for
 * negative or out-of-range values.
 */
export function parseDuration(text: string): number | undefined {
  if (!TERMS.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(TERM)) {
    const termMs = parseTerm(`${amount}${unit ?? ''}`);
    if (termMs === undefined || !Number.isFinite(termMs)) return undefined;
    total += termMs;
  }
  const rounded = Math.round(total);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

const DAY_MS = 86_400_000;

const UNITS_FOR_PEOPLE = humanizeDuration.humanizer({
  language: 'console',
  languages: { console: { y: () => 'y', mo: () => 'mo', w: () => 'w', d: () => 'd', h: () => 'h', m: () => 'min', s: () => 's', ms: () => 'ms' } },
  largest: 2,
  round: true,
  spacer: ' ',
  delimiter: ' ',
});

/**
 * `8 s`, `30 min`, `24 h`, `1 h 30 min`, `23 h 59 min`, `7 d`: the two largest non-zero units. Days only from two
 * days on, so that a day reads `24 h` as operators set it.
 */
export function formatDuration(durationMs: number): string {
  // Nothing yet is "0 s" (a window just opened), not humanize-duration's smallest unit.
  if (durationMs === 0) return '0 s';
  const units: humanizeDuration.Unit[] = durationMs >= 2 * DAY_MS ? ['d', 'h', 'm', 's', 'ms'] : ['h', 'm', 's', 'ms'];
  return UNITS_FOR_PEOPLE(durationMs, { units });
}

/** `2026-12-07T02:00:00Z (in 23 h 59 min)`: a deadline with the time left, or how long ago it passed. */
export function formatDeadline(iso: string, nowMs: number = Date.now()): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const shown = new Date(at).toISOString().replace(/\.000Z$/, 'Z');
  const left = at - nowMs;
  // Whole minutes for a wait longer than one: seconds would only be noise in a line read once.
  const rounded = Math.abs(left) >= 60_000 ? Math.floor(Math.abs(left) / 60_000) * 60_000 : Math.round(Math.abs(left) / 1000) * 1000;
  return left >= 0 ? `${shown} (in ${formatDuration(rounded)})` : `${shown} (passed ${formatDuration(rounded)} ago)`;
}
