import { formatInZone, isTimeZone, nextCronTimes, parseCron, shortestGap } from '../../src/domain/cron';

const NOW = Date.parse('2026-03-27T12:00:00Z');

function next(expression: string, count: number, timezone?: string): string[] {
  const parsed = parseCron(expression);
  if (!parsed || !('calendar' in parsed)) throw new Error(`not a calendar: ${expression}`);
  return nextCronTimes(parsed.calendar, NOW, count, timezone ?? parsed.timezone).map((t) => new Date(t).toISOString());
}

describe('Temporal cron strings', () => {
  it('fires at the wall-clock times of its zone, across a DST change', () => {
    // Europe/Berlin moves to summer time on 2026-03-29: 02:00 CET is 01:00Z, 02:00 CEST is 00:00Z.
    expect(next('0 2 * * *', 3, 'Europe/Berlin')).toEqual(['2026-03-28T01:00:00.000Z', '2026-03-30T00:00:00.000Z', '2026-03-31T00:00:00.000Z']);
    expect(next('0 2 * * *', 2)).toEqual(['2026-03-28T02:00:00.000Z', '2026-03-29T02:00:00.000Z']);
    expect(next('CRON_TZ=Europe/Berlin 0 3 * * *', 1)).toEqual(['2026-03-28T02:00:00.000Z']);
  });

  it('reads steps, ranges, lists, names, shorthands, seconds and years', () => {
    expect(next('*/20 13 * * *', 3)).toEqual(['2026-03-27T13:00:00.000Z', '2026-03-27T13:20:00.000Z', '2026-03-27T13:40:00.000Z']);
    expect(next('0 9 * * MON-FRI', 2)).toEqual(['2026-03-30T09:00:00.000Z', '2026-03-31T09:00:00.000Z']);
    expect(next('0 3 1,15 jan-dec *', 2)).toEqual(['2026-04-01T03:00:00.000Z', '2026-04-15T03:00:00.000Z']);
    expect(next('@weekly', 1)).toEqual(['2026-03-29T00:00:00.000Z']);
    expect(next('30 0 0 1 1 * 2030 # new year', 2)).toEqual(['2030-01-01T00:00:30.000Z']);
    expect(next('0 0 * * 7', 1)).toEqual(['2026-03-29T00:00:00.000Z']);
  });

  it('takes @every as an interval, and leaves what it cannot read to the server', () => {
    expect(parseCron('@every 6h')).toEqual({ everyMs: 21_600_000, timezone: undefined });
    for (const unknown of ['0 2 L * *', '0 2 15W * *', '61 * * * *', '0 2 * *', 'every day']) expect(parseCron(unknown)).toBeUndefined();
  });

  it('tells the shortest gap and writes times in the zone', () => {
    expect(shortestGap([0, 10, 15, 40])).toBe(5);
    expect(shortestGap([7])).toBeUndefined();
    expect(formatInZone('2026-03-30T00:00:00.000Z', 'Europe/Berlin')).toBe('2026-03-30 02:00 Europe/Berlin');
    expect(formatInZone('2026-03-30T00:00:30.000Z', 'UTC')).toBe('2026-03-30 00:00:30 UTC');
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
