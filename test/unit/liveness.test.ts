import { ApplicationFailure } from '@temporalio/common';
import { whileAlive, type LivenessWatch } from '../../src/activities/liveness';
import { judgeLiveness, stallMessage, STALL_LIMIT_MS, type LivenessCheck } from '../../src/domain/liveness';
import { ATTEMPT_STALLED } from '../../src/shared';

const LIMIT = 120_000;
const quietFor = (ms: number, over: Partial<LivenessCheck> = {}): LivenessCheck => ({
  nowMs: 1_000_000 + ms,
  aliveAtMs: 1_000_000,
  progressChanged: false,
  waiting: false,
  stallLimitMs: LIMIT,
  ...over,
});

describe('judgeLiveness', () => {
  it.each<{ what: string; check: LivenessCheck; verdict: string }>([
    { what: 'progress changed, long after the last sign of life', check: quietFor(10 * LIMIT, { progressChanged: true }), verdict: 'alive' },
    { what: 'waiting its turn (pool, plan turn, stdout), long after', check: quietFor(10 * LIMIT, { waiting: true }), verdict: 'alive' },
    { what: 'no change, the database not asked yet', check: quietFor(10 * LIMIT), verdict: 'ask-database' },
    { what: 'no change, a statement of its own running', check: quietFor(10 * LIMIT, { runningStatements: 1 }), verdict: 'alive' },
    { what: 'no change, none running, for less than the limit', check: quietFor(LIMIT - 1, { runningStatements: 0 }), verdict: 'quiet' },
    { what: 'no change, none running, for the limit', check: quietFor(LIMIT, { runningStatements: 0 }), verdict: 'stalled' },
    { what: 'no change, none running, for longer', check: quietFor(LIMIT + 5000, { runningStatements: 0 }), verdict: 'stalled' },
  ])('$what → $verdict', ({ check, verdict }) => {
    expect(judgeLiveness(check)).toBe(verdict);
  });

  it('asks the database only when nothing free shows life (progress or a wait)', () => {
    expect(judgeLiveness(quietFor(0, { progressChanged: true }))).toBe('alive');
    expect(judgeLiveness(quietFor(0))).toBe('ask-database');
  });

  it('stalls after 2 minutes by default', () => {
    expect(STALL_LIMIT_MS).toBe(120_000);
  });
});

describe('stallMessage', () => {
  it("says what happened, the likely cause and what to check, in people's units", () => {
    expect(stallMessage(120_000)).toBe(
      'no progress for 2 min and none of its statements is running in the database (a lost connection that was never reported?): stopped; ' +
        'check the network between the worker and the database (OCPP_MYSQL_HOST), and the worker log for what it did last',
    );
  });

  it('says why the database could not be asked, when it could not', () => {
    expect(stallMessage(2000, 'connect ETIMEDOUT')).toMatch(
      /^no progress for 2 s and the database could not be asked whether any of its statements is running \(connect ETIMEDOUT\) \(a lost connection/,
    );
  });
});

describe('whileAlive', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** A watch of a work with constant progress, none of its statements running unless `running` says otherwise. */
  function watchOf(over: Partial<LivenessWatch> = {}): LivenessWatch & { asked: number; stops: number } {
    const watch = {
      asked: 0,
      stops: 0,
      progress: () => ({ devices: 0 }),
      waiting: () => false,
      runningStatements: () => {
        watch.asked++;
        return Promise.resolve(0);
      },
      stop: () => {
        watch.stops++;
        return Promise.resolve();
      },
      stallLimitMs: 10_000,
      intervalMs: 2000,
      ...over,
    };
    return watch;
  }

  const never = (): Promise<string> => new Promise<string>(() => undefined);

  it('fails a work with no sign of life at the first beat past the stall limit, stops its queries, and heartbeated meanwhile', async () => {
    const beats: unknown[] = [];
    const watch = watchOf();
    const running = whileAlive({ heartbeat: (d) => beats.push(d) }, never, watch);
    const failure = running.catch((err: unknown) => err);
    await jest.advanceTimersByTimeAsync(9999);
    expect(watch.stops).toBe(0);
    expect(watch.asked).toBe(4);
    await jest.advanceTimersByTimeAsync(1);
    const err = await failure;
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: ATTEMPT_STALLED, nonRetryable: false, message: expect.stringMatching(/^no progress for 10 s and none of its statements is running/) });
    expect(watch.stops).toBe(1);
    expect(beats).toHaveLength(6);
    const after = beats.length;
    await jest.advanceTimersByTimeAsync(10_000);
    expect(beats).toHaveLength(after);
  });

  it('is alive while a statement of its own runs, with constant progress: asks the database once per beat', async () => {
    const watch = watchOf({ runningStatements: () => (watch.asked++, Promise.resolve(1)) });
    let finish: (value: string) => void = () => undefined;
    const running = whileAlive({ heartbeat: () => undefined }, () => new Promise<string>((resolve) => (finish = resolve)), watch);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(watch.asked).toBe(30);
    finish('done');
    await expect(running).resolves.toBe('done');
    expect(watch.stops).toBe(0);
  });

  it('is alive while its progress changes', async () => {
    let devices = 0;
    const watch = watchOf({ progress: () => ({ devices }) });
    const ticking = setInterval(() => devices++, 1500);
    let finish: (value: string) => void = () => undefined;
    const running = whileAlive({ heartbeat: () => undefined }, () => new Promise<string>((resolve) => (finish = resolve)), watch);
    await jest.advanceTimersByTimeAsync(60_000);
    clearInterval(ticking);
    finish('done');
    await expect(running).resolves.toBe('done');
    // A beat may meet no change (two beats between two ticks): asking then is cheap, and never stalls.
    expect(watch.stops).toBe(0);
  });

  it('is alive while it waits its turn, without asking the database', async () => {
    const watch = watchOf({ waiting: () => true });
    let finish: (value: string) => void = () => undefined;
    const running = whileAlive({ heartbeat: () => undefined }, () => new Promise<string>((resolve) => (finish = resolve)), watch);
    await jest.advanceTimersByTimeAsync(60_000);
    finish('done');
    await expect(running).resolves.toBe('done');
    expect(watch.asked).toBe(0);
  });

  it('counts a database that cannot be asked as no statement running, and says so', async () => {
    const watch = watchOf({ runningStatements: () => Promise.reject(new Error('connect ETIMEDOUT')) });
    const failure = whileAlive({ heartbeat: () => undefined }, never, watch).catch((err: unknown) => err);
    await jest.advanceTimersByTimeAsync(12_000);
    expect(await failure).toMatchObject({ type: ATTEMPT_STALLED, message: expect.stringContaining('could not be asked whether any of its statements is running (connect ETIMEDOUT)') });
  });

  it('tells the stall, not the error of the query its stop killed', async () => {
    let fail: (err: Error) => void = () => undefined;
    const watch = watchOf({ stop: () => Promise.resolve(fail(new Error('Connection was killed'))) });
    const failure = whileAlive({ heartbeat: () => undefined }, () => new Promise<string>((_, reject) => (fail = reject)), watch).catch((err: unknown) => err);
    await jest.advanceTimersByTimeAsync(12_000);
    expect(await failure).toMatchObject({ type: ATTEMPT_STALLED });
  });

  it("returns the work's result and stops watching once it is done", async () => {
    const watch = watchOf();
    await expect(whileAlive({ heartbeat: () => undefined }, () => Promise.resolve('done'), watch)).resolves.toBe('done');
    await jest.advanceTimersByTimeAsync(60_000);
    expect(watch.asked).toBe(0);
    expect(watch.stops).toBe(0);
  });
});
