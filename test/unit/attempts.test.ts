import { formatDuration } from '../../src/domain/duration';
import { CancelledFailure, type Context } from '@temporalio/activity';
import { effectivePolicy, failAttempt, isLastAttempt, retryDelayMs, whileHeartbeating } from '../../src/activities/attempts';
import type { Log } from '../../src/log';
import { APPLY_RETRY, DIFF_RETRY, type RetrySettings } from '../../src/shared';

const policy: RetrySettings = { initialIntervalMs: 1000, backoffCoefficient: 2, maximumIntervalMs: 30_000, maximumAttempts: 20 };

describe('retryDelayMs: initialInterval × backoffCoefficient^(attempt − 1), capped at maximumInterval', () => {
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 16_000],
    [6, 30_000],
    [19, 30_000],
  ])('after failed attempt %i waits %i ms', (attempt, ms) => {
    expect(retryDelayMs(policy, attempt)).toBe(ms);
  });

  it('with coefficient 1 always waits the initial interval', () => {
    expect(retryDelayMs({ ...policy, backoffCoefficient: 1, initialIntervalMs: 500 }, 7)).toBe(500);
  });

  it('with coefficient 1.5', () => {
    expect(retryDelayMs({ ...policy, backoffCoefficient: 1.5 }, 3)).toBe(2250);
  });

  it('the policies in use back off to 30 s', () => {
    expect(retryDelayMs(APPLY_RETRY, APPLY_RETRY.maximumAttempts - 1)).toBe(30_000);
    expect(retryDelayMs(DIFF_RETRY, 1)).toBe(1000);
  });
});

describe('isLastAttempt', () => {
  it.each([
    [19, 20, false],
    [20, 20, true],
    [21, 20, true],
    [1, 1, true],
    [100, 0, false],
  ])('attempt %i of maximum %i → %s', (attempt, maximumAttempts, last) => {
    expect(isLastAttempt({ ...policy, maximumAttempts }, attempt)).toBe(last);
  });
});

describe("the retry line's delay, in people's units (formatDuration)", () => {
  it.each([
    [500, '500 ms'],
    [1000, '1 s'],
    [1500, '1 s 500 ms'],
    [30_000, '30 s'],
    [60_000, '1 min'],
    [150_000, '2 min 30 s'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('effectivePolicy', () => {
  it("takes the server's policy (durations in ms) over the fallback", () => {
    expect(
      effectivePolicy({ retryPolicy: { initialInterval: 2000, backoffCoefficient: 3, maximumInterval: 60_000, maximumAttempts: 5, nonRetryableErrorTypes: ['X'] } }, policy),
    ).toEqual({ initialIntervalMs: 2000, backoffCoefficient: 3, maximumIntervalMs: 60_000, maximumAttempts: 5, nonRetryableErrorTypes: ['X'] });
  });

  it("uses Temporal's defaults for fields the server leaves out", () => {
    expect(effectivePolicy({ retryPolicy: { initialInterval: 1000 } }, policy)).toEqual({
      initialIntervalMs: 1000,
      backoffCoefficient: 2,
      maximumIntervalMs: 100_000,
      maximumAttempts: 0,
      nonRetryableErrorTypes: [],
    });
  });

  it('falls back to the given policy when the server reports none', () => {
    expect(effectivePolicy({ retryPolicy: undefined }, policy)).toEqual({ ...policy, nonRetryableErrorTypes: [] });
  });
});

describe('whileHeartbeating', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('heartbeats at once and then on a timer while the work is pending, with the latest details, and stops after', async () => {
    const beats: unknown[] = [];
    let progress = 0;
    let finish: (value: string) => void = () => undefined;
    const running = whileHeartbeating({ heartbeat: (d) => beats.push(d) }, () => new Promise<string>((resolve) => (finish = resolve)), () => ({ progress }), 2000);
    expect(beats).toEqual([{ progress: 0 }]);
    progress = 3;
    jest.advanceTimersByTime(2000);
    jest.advanceTimersByTime(2000);
    expect(beats).toEqual([{ progress: 0 }, { progress: 3 }, { progress: 3 }]);
    finish('done');
    await expect(running).resolves.toBe('done');
    jest.advanceTimersByTime(10_000);
    expect(beats).toHaveLength(3);
  });

  it('stops heartbeating when the work fails, and rethrows', async () => {
    const beats: unknown[] = [];
    await expect(whileHeartbeating({ heartbeat: (d) => beats.push(d) }, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    jest.advanceTimersByTime(10_000);
    expect(beats).toHaveLength(1);
  });
});

describe('failAttempt of an attempt stopped by a cancel', () => {
  it('logs a WARN (a cancel or reject is no error), never the final failure lines, and rethrows the cancellation', async () => {
    const lines: Array<[string, string]> = [];
    const log: Log = {
      info: (line) => lines.push(['info', line]),
      debug: (line) => lines.push(['debug', line]),
      warn: (line) => lines.push(['warn', line]),
      error: (line) => lines.push(['error', line]),
    };
    const onFinalFailure = jest.fn();
    const cancelled = new CancelledFailure('CANCELLED');
    const context = { info: { attempt: 1 } } as unknown as Context;
    await expect(failAttempt(cancelled, { context, log, activity: 'applyMissingPoints', what: 'Transaction', policy: APPLY_RETRY, onFinalFailure })).rejects.toBe(cancelled);
    expect(lines).toEqual([['warn', 'Transaction attempt 1 stopped (CANCELLED)']]);
    expect(onFinalFailure).not.toHaveBeenCalled();
  });
});
