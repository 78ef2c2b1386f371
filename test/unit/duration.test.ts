import { formatDeadline, formatDuration, parseDuration } from '../../src/domain/duration';

describe('parseDuration', () => {
  it.each([
    ['60000', 60_000],
    ['0', 0],
    ['500ms', 500],
    ['8s', 8000],
    ['90s', 90_000],
    ['30 s', 30_000],
    ['1.5s', 1500],
    ['15m', 900_000],
    ['30min', 1_800_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1w', 604_800_000],
    [' 90s ', 90_000],
    ['90 s', 90_000],
    ['90 seconds', 90_000],
    ['1 h 30 min', 5_400_000],
    ['23 h 59 min', 86_340_000],
  ])('reads %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '-5', '-5s', '1e3', '1.5.5', 's', '0x10', '9'.repeat(20) + 'd', '5 parsecs', '1h-30m'])('gives undefined for %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [999, '999 ms'],
    [1000, '1 s'],
    [8000, '8 s'],
    [90_000, '1 min 30 s'],
    [1_800_000, '30 min'],
    [3_600_000, '1 h'],
    [5_400_000, '1 h 30 min'],
    [86_340_000, '23 h 59 min'],
    [86_400_000, '24 h'],
    [36 * 3_600_000, '36 h'],
    [7 * 86_400_000, '7 d'],
    [86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4000, '26 h 3 min'],
  ])('%i ms → %s (the two largest non-zero units, a space before each unit)', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(['500ms', '8s', '30s', '15m', '2h', '24h', '1h 30m', '7d'])('writes what parseDuration reads back (%s)', (text) => {
    const ms = parseDuration(text)!;
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('formatDeadline', () => {
  const deadline = '2026-12-07T02:00:00.000Z';

  it('shows the time left, in whole minutes', () => {
    expect(formatDeadline(deadline, Date.parse('2026-12-06T02:00:30Z'))).toBe('2026-12-07T02:00:00Z (in 23 h 59 min)');
  });

  it('shows seconds in the last minute', () => {
    expect(formatDeadline(deadline, Date.parse('2026-12-07T01:59:52Z'))).toBe('2026-12-07T02:00:00Z (in 8 s)');
  });

  it('says how long ago a deadline passed', () => {
    expect(formatDeadline(deadline, Date.parse('2026-12-07T02:05:30Z'))).toBe('2026-12-07T02:00:00Z (passed 5 min ago)');
  });

  it('leaves a text that is no time as it is', () => {
    expect(formatDeadline('(no deadline)', 0)).toBe('(no deadline)');
  });
});
