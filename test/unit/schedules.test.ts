import { CliError, EXIT } from '../../src/domain/exit-codes';
import { scheduleSpec } from '../../src/client/schedules';

describe('scheduleSpec', () => {
  it('turns --every into an interval', () => {
    expect(scheduleSpec({ everyMs: 86_400_000 })).toEqual({ intervals: [{ every: 86_400_000 }], timezone: undefined, text: 'every 24 h' });
    expect(scheduleSpec({ everyMs: 90 * 60_000 }).text).toBe('every 1 h 30 min');
  });

  it('passes --cron on, with its time zone', () => {
    expect(scheduleSpec({ cron: '0 2 * * *', timezone: 'Europe/Berlin' })).toEqual({ cronExpressions: ['0 2 * * *'], timezone: 'Europe/Berlin', text: 'cron "0 2 * * *" (Europe/Berlin)' });
    expect(scheduleSpec({ cron: '@daily' }).text).toBe('cron "@daily" (UTC)');
  });

  it.each([
    [{}, 'expected exactly one of --every <duration> and --cron'],
    [{ everyMs: 3_600_000, cron: '0 2 * * *' }, 'expected exactly one of --every <duration> and --cron'],
    [{ everyMs: 30_000 }, '--every: expected at least 1m'],
    [{ cron: '0 2 *' }, '--cron: expected 5 fields'],
  ])('refuses %o as bad usage', (option, message) => {
    let error: unknown;
    try {
      scheduleSpec(option);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toContain(message);
    expect((error as CliError).exitCode).toBe(EXIT.usage);
  });
});
