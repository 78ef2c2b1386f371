import { formatDuration, parseDuration } from '../../src/domain/duration';

describe('parseDuration', () => {
  it.each([
    ['60000', 60_000],
    ['0', 0],
    ['500ms', 500],
    ['90s', 90_000],
    ['1.5s', 1500],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    [' 90s ', 90_000],
    ['90 s', 90_000],
  ])('reads %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '-5', '-5s', '1e3', '90S', '1w', '90 seconds', '1.5.5', 's', '0x10', '9'.repeat(20) + 'd'])(
    'gives undefined for %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [999, '999ms'],
    [1000, '1s'],
    [90_000, '1m 30s'],
    [3_600_000, '1h'],
    [3_601_000, '1h 1s'],
    [86_400_000 + 2 * 3_600_000 + 3 * 60_000 + 4000, '1d 2h 3m 4s'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(['500ms', '30s', '15m', '2h', '7d'])('reads back what it writes for a whole unit (%s)', (text) => {
    expect(formatDuration(parseDuration(text)!)).toBe(text);
  });
});
