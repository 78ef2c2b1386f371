/**
 * The CLI's option rules, in process: the parsers commander calls, the rules between options, and main() for the
 * exit status a broken rule ends with (none of these cases may reach Temporal).
 */
import { InvalidArgumentError } from 'commander';
import { CliError, EXIT } from '../../src/domain/exit-codes';
import { main } from '../../src/cli/main';
import { collectorsOption, countOption, databaseOption, durationOption, limitOption, phaseOption, planFormatOption, sinceOption, timezoneOption } from '../../src/cli/options';
import { planFormatOf } from '../../src/cli/commands/plan';
import { checkStartOptions, checkSyncOptions, percentOption, syncInputFrom, syncLine, type StartOptions } from '../../src/cli/sync-options';
import { MAX_COLLECTORS } from '../../src/shared';
import { watchInputFrom, watchIntervalOption, watchLine, type WatchStartOptions } from '../../src/cli/commands/watch';

describe('option values', () => {
  it.each([
    ['60000', 60_000],
    ['8s', 8000],
    ['500ms', 500],
    ['30min', 1_800_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['30 s', 30_000],
  ])('a duration %j is %i ms', (text, ms) => {
    expect(durationOption(text)).toBe(ms);
  });

  it.each(['0', '0s', '-5s', 'soon', '', '1e3'])('a duration %j is refused', (text) => {
    expect(() => durationOption(text)).toThrow(InvalidArgumentError);
  });

  it.each([
    ['1', 1],
    ['50', 50],
    [' 7 ', 7],
  ])('--auto-approve-max-* %j is %i', (text, n) => {
    expect(countOption(text)).toBe(n);
  });

  it.each(['0', '-1', '1.5', 'ten', '', '1e3', '9999999999'])('--auto-approve-max-* %j is refused', (text) => {
    expect(() => countOption(text)).toThrow('expected a whole number of at least 1');
  });

  it('--collectors takes 1 to MAX_COLLECTORS', () => {
    expect(collectorsOption('1')).toBe(1);
    expect(collectorsOption(String(MAX_COLLECTORS))).toBe(MAX_COLLECTORS);
    for (const text of ['0', String(MAX_COLLECTORS + 1), '1.5', 'two', '-2']) {
      expect(() => collectorsOption(text)).toThrow(`expected a whole number of collectors from 1 to ${MAX_COLLECTORS}`);
    }
  });

  it('--format takes the plan formats only', () => {
    expect(['table', 'json', 'csv', 'sql'].map(planFormatOption)).toEqual(['table', 'json', 'csv', 'sql']);
    expect(() => planFormatOption('xml')).toThrow('expected one of table, json, csv, sql');
  });

  it('--phase takes the phases only, --limit 1 to 10000', () => {
    expect(phaseOption('awaiting-approval')).toBe('awaiting-approval');
    expect(() => phaseOption('waiting')).toThrow(InvalidArgumentError);
    expect(() => phaseOption('waiting')).toThrow(/expected one of .*applied.*, watching, stopped$/);
    expect(limitOption('10000')).toBe(10_000);
    for (const text of ['0', '10001', '2.5', 'all']) expect(() => limitOption(text)).toThrow('expected a whole number from 1 to 10000');
  });

  it('--phase takes a watch’s phases too: watching, awaiting-approval, stopped', () => {
    for (const phase of ['watching', 'awaiting-approval', 'stopped']) expect(phaseOption(phase)).toBe(phase);
    expect(() => phaseOption('Watching')).toThrow(InvalidArgumentError);
  });

  it('--database takes a database name as OCPP_MYSQL_DATABASE does (nothing that could leave the query)', () => {
    expect(databaseOption('ocpp_eu-2')).toBe('ocpp_eu-2');
    for (const text of ["x' OR 1=1", 'a b', '', 'x'.repeat(65)]) expect(() => databaseOption(text)).toThrow('expected a database name of letters, digits');
  });

  it('--timezone takes IANA zones only', () => {
    expect(timezoneOption('Europe/Berlin')).toBe('Europe/Berlin');
    expect(timezoneOption('UTC')).toBe('UTC');
    expect(() => timezoneOption('Berlin')).toThrow('expected an IANA time zone');
  });

  it('--since takes a duration ago or a date', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    expect(sinceOption('24h', now).toISOString()).toBe('2026-11-27T12:00:00.000Z');
    expect(sinceOption('2026-11-01', now).toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(() => sinceOption('yesterday', now)).toThrow('expected a duration ago (24h, 7d) or a date');
  });
});

describe('the rules between options', () => {
  const usage = (check: () => void, message: string): void => {
    let caught: unknown;
    try {
      check();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect(caught).toMatchObject({ exitCode: EXIT.usage, message: expect.stringContaining(message) });
  };

  it.each([
    [{ dryRun: true, autoApprove: true }, '--dry-run and --auto-approve contradict each other'],
    [{ dryRun: true, autoApproveMaxPoints: 5 }, '--dry-run and --auto-approve contradict each other'],
    [{ autoApprove: true, autoApproveMaxStations: 2 }, '--auto-approve applies any plan; with a limit use only'],
    [{ account: 'a/b' }, '--account: expected one topic level'],
    [{ account: '+' }, '--account: expected one topic level'],
    [{ detailedExitcode: true }, '--detailed-exitcode: expected --dry-run too'],
  ])('refuses %o as bad usage', (options, message) => {
    usage(() => checkSyncOptions(options), message);
  });

  it('accepts limits together, and --detailed-exitcode with --dry-run', () => {
    expect(() => checkSyncOptions({ autoApproveMaxPoints: 5, autoApproveMaxStations: 2 })).not.toThrow();
    expect(() => checkSyncOptions({ dryRun: true, detailedExitcode: true, account: 'acc123' })).not.toThrow();
  });

  it('start: --detailed-exitcode needs --wait', () => {
    const start: StartOptions = { id: 'sync-1', dryRun: true, detailedExitcode: true };
    usage(() => checkStartOptions(start), '--detailed-exitcode: expected --wait too');
    expect(() => checkStartOptions({ ...start, wait: true })).not.toThrow();
  });

  it('plan: --json is --format json and contradicts another format', () => {
    expect(planFormatOf({ format: 'table' })).toBe('table');
    expect(planFormatOf({ format: 'table', json: true })).toBe('json');
    expect(planFormatOf({ format: 'csv' })).toBe('csv');
    usage(() => planFormatOf({ format: 'csv', json: true }), '--json is --format json; it contradicts --format csv');
  });
});

describe('syncInputFrom', () => {
  it('takes the environment for what the options leave out', () => {
    expect(syncInputFrom({}, { COLLECTOR_DURATION: '8s', APPROVAL_TIMEOUT: '30m', TEST_DEVICE_ID: 'dev-1' })).toEqual({
      collectorDurationMs: 8000,
      approvalTimeoutMs: 1_800_000,
      maxConnectors: 16,
      testDeviceId: 'dev-1',
      account: undefined,
      dryRun: false,
      autoApprove: false,
      maxSilentStations: 50,
    });
  });

  it('takes --max-silent-stations over MAX_SILENT_STATIONS', () => {
    expect(syncInputFrom({ maxSilentStations: 0 }, { MAX_SILENT_STATIONS: '80' }).maxSilentStations).toBe(0);
    expect(syncInputFrom({}, { MAX_SILENT_STATIONS: '80' }).maxSilentStations).toBe(80);
    expect(percentOption('100')).toBe(100);
    expect(() => percentOption('101')).toThrow(/0 to 100/);
  });

  it('lets the options win, and names several collectors only', () => {
    const input = syncInputFrom({ duration: 5000, testDevice: 'dev-2', autoApproveMaxPoints: 3, collectors: 4 }, { COLLECTOR_DURATION: '8s', COLLECTORS: '2' });
    expect(input).toMatchObject({ collectorDurationMs: 5000, testDeviceId: 'dev-2', autoApproveMaxPoints: 3, collectors: 4 });
    expect(syncInputFrom({ collectors: 1 }, { COLLECTORS: '3' })).not.toHaveProperty('collectors');
  });

  it('announces the window in people\'s units', () => {
    expect(syncLine(syncInputFrom({ duration: 90_000, dryRun: true }, {}))).toBe('  collecting for 1 min 30 s; dry run');
  });
});

describe('watch start', () => {
  it('takes intervals as 5s, 30s, 10min or milliseconds, not below a second', () => {
    expect(watchIntervalOption('5s')).toBe(5000);
    expect(watchIntervalOption('10min')).toBe(600_000);
    expect(watchIntervalOption('30000')).toBe(30_000);
    expect(() => watchIntervalOption('500ms')).toThrow(/at least 1 s/);
    expect(() => watchIntervalOption('soon')).toThrow(InvalidArgumentError);
  });

  const watchOptions = (extra: Partial<WatchStartOptions> = {}): WatchStartOptions => ({ id: 'w', interval: 30_000, ...extra });

  it('takes the environment for what the options leave out, and names only what was given', () => {
    expect(watchInputFrom(watchOptions(), { MAX_CONNECTORS: '8' })).toEqual({ intervalMs: 30_000, maxConnectors: 8 });
    expect(watchInputFrom(watchOptions({ account: 'acme', collectors: 3, autoApproveMaxPoints: 10, autoApproveMaxStations: 2 }), {})).toMatchObject({
      account: 'acme',
      collectors: 3,
      autoApproveMaxPoints: 10,
      autoApproveMaxStations: 2,
    });
  });

  it('takes --max-silent-stations only when given (MAX_SILENT_STATIONS is the sync\'s)', () => {
    expect(watchInputFrom(watchOptions(), { MAX_SILENT_STATIONS: '20' })).not.toHaveProperty('maxSilentStations');
    expect(watchInputFrom(watchOptions({ maxSilentStations: 0 }), {})).toMatchObject({ maxSilentStations: 0 });
    expect(watchLine(watchInputFrom(watchOptions({ maxSilentStations: 30 }), {}))).toMatch(/; held for a person when more than 30 % of live stations went unheard$/);
  });

  it('refuses an account of more than one topic level as the sync does', () => {
    expect(() => watchInputFrom(watchOptions({ account: 'a/b' }), {})).toThrow(new CliError('--account: expected one topic level, without /, + or #', EXIT.usage));
  });

  it("announces the interval and the limits in people's units", () => {
    expect(watchLine(watchInputFrom(watchOptions(), {}))).toBe('  a cycle every 30 s; every plan waits for approval (no auto-approve limit)');
    expect(watchLine(watchInputFrom(watchOptions({ interval: 600_000, account: 'acme', autoApproveMaxPoints: 10, collectors: 2 }), {}))).toBe(
      '  a cycle every 10 min on account acme; plans up to 10 points are applied at once, larger ones wait for approval; 2 collectors (shared subscription)',
    );
  });
});

describe('main: a broken option rule ends with exit 2 before any connection', () => {
  let stderr: string;
  let spy: jest.SpyInstance;
  beforeEach(() => {
    stderr = '';
    spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
  });
  afterEach(() => spy.mockRestore());

  // TEMPORAL_ADDRESS points nowhere: a case that tried to connect would fail with exit 1, not 2.
  const saved = process.env.TEMPORAL_ADDRESS;
  beforeAll(() => {
    process.env.TEMPORAL_ADDRESS = '127.0.0.1:1';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.TEMPORAL_ADDRESS;
    else process.env.TEMPORAL_ADDRESS = saved;
  });

  it.each([
    [['start', '--duration', 'soon'], "option '--duration <ms>' argument 'soon' is invalid"],
    [['start', '--auto-approve-max-points', '0'], 'expected a whole number of at least 1'],
    [['run', '--collectors', '100'], `expected a whole number of collectors from 1 to ${MAX_COLLECTORS}`],
    [['plan', 'sync-1', '--format', 'xml'], 'expected one of table, json, csv, sql'],
    [['status'], "missing required argument 'workflowId'"],
    [['prune'], "required option '--older-than <duration>' not specified"],
    [['start', '--dry-run', '--auto-approve'], '--dry-run and --auto-approve contradict each other'],
    [['start', '--dry-run', '--detailed-exitcode'], '--detailed-exitcode: expected --wait too'],
    [['schedule', 'create', 'nightly', '--every', '30s'], '--every: expected at least 1m'],
    [['list', '--since', 'yesterday'], 'expected a duration ago'],
    [['list', '--database', "ocpp' OR 1=1"], 'expected a database name'],
    [['schedule', 'create', 'nightly', '--cron', '0 2 * * *', '--approval-timeout', '24h'], 'the approval timeout, 24 h (--approval-timeout), is not shorter than the time between two runs, 24 h'],
    [['schedule', 'create', 'nightly', '--every', '1h', '--approval-timeout', '90m'], 'the approval timeout, 1 h 30 min (--approval-timeout), is not shorter than the time between two runs, 1 h (every 1 h)'],
    [['schedule', 'create', 'nightly', '--cron', '0 2 * * *', '--timezone', 'Mars/Base'], 'expected an IANA time zone'],
    [['schedule', 'create', 'nightly', '--every', '1h', '--timezone', 'Europe/Berlin'], '--timezone: only with --cron'],
    [['schedule', 'update', 'nightly'], 'schedule update: nothing to change'],
    [['schedule', 'update', 'nightly', '--every', '1h', '--cron', '0 2 * * *'], 'expected at most one of --every'],
    [['watch', 'start', '--interval', '500ms'], 'expected a duration of at least 1 s'],
    [['watch', 'start', '--collectors', '0'], `expected a whole number of collectors from 1 to ${MAX_COLLECTORS}`],
    [['watch', 'start', '--auto-approve-max-stations', 'two'], 'expected a whole number of at least 1'],
    [['watch', 'start', '--account', 'a/#'], '--account: expected one topic level'],
    [['watch', 'stop'], "missing required argument 'workflowId'"],
    [['watch', 'start', '--max-silent-stations', '101'], 'expected a whole percentage from 0 to 100'],
  ])('cp-sync %j', async (args, message) => {
    expect(await main(['node', 'cp-sync', ...args])).toBe(EXIT.usage);
    expect(stderr).toContain(message);
  });
});
