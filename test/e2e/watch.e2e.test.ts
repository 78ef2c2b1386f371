/**
 * `cp-sync watch` against the real services: a device that appears mid-watch gets its points within the interval
 * (and a count that rises later, the new one), a device without a station is planned again once its station exists,
 * and `cp-sync watch stop` exits 0 and leaves no session on the broker.
 */
import { sessionClientId } from '../../src/mqtt/collector';
import { watchSessionKey } from '../../src/domain/watch-keys';
import type { WatchInput, WatchStatus } from '../../src/watch-shared';
import { watchStatusQuery } from '../../src/workflows';
import { Publisher, report, useE2e } from '../support/e2e';
import { sessionPresent } from '../support/e2e-broker';
import { expectExit, useCliRunner } from '../support/e2e-cli';
import { pointsWithin, startListeningWatch, watchStatusWhen } from '../support/e2e-watch';
import { waitFor } from '../support/wait';

const e2e = useE2e('watch');
const cli = useCliRunner(e2e);

const INTERVAL_MS = 2000;

function startWatch(input: Partial<WatchInput> & { account: string }) {
  return startListeningWatch(e2e, { intervalMs: INTERVAL_MS, ...input });
}

test('a device that appears mid-watch gets its points within the interval, and a risen count its new one', async () => {
  const account = e2e.account();
  const complete = await e2e.db.station({ station_id: 'WATCH-FULL', name: 'Complete' });
  await e2e.db.point(complete, 1);
  const handle = await startWatch({ account });
  const fresh = await e2e.db.station({ station_id: 'WATCH-0001', name: 'Watched' });

  const appeared = Date.now();
  let publisher = await Publisher.start(account, [report(fresh.station_id, 2), report(complete.station_id, 1)], { intervalMs: 500 });
  try {
    await pointsWithin(e2e, [fresh], { [fresh.station_id]: [1, 2] }, INTERVAL_MS + 8000);
    expect(Date.now() - appeared).toBeLessThan(INTERVAL_MS + 8000);
  } finally {
    await publisher.stop();
  }
  publisher = await Publisher.start(account, [report(fresh.station_id, 3)], { intervalMs: 500 });
  try {
    await pointsWithin(e2e, [fresh], { [fresh.station_id]: [1, 2, 3] }, INTERVAL_MS + 8000);
  } finally {
    await publisher.stop();
  }
  expect(await e2e.db.livePointIds(complete)).toEqual([1]);

  const status: WatchStatus = await handle.query(watchStatusQuery);
  expect(status).toMatchObject({ kind: 'watch', phase: 'watching', pending: null, createdTotal: 3 });
  expect(status.cycles).toBeGreaterThanOrEqual(2);
  expect(status.lastCycle).toEqual(expect.objectContaining({ at: expect.any(String), changedDevices: expect.any(Number), pointsToCreate: expect.any(Number), created: expect.any(Number) }));

  // `status --json` reads a watch like a sync.
  const shown = await cli.json<WatchStatus>(['status', handle.workflowId]);
  expectExit(shown.run, 0);
  expect(shown.value).toMatchObject({ kind: 'watch', phase: 'watching', createdTotal: 3 });
  // For people: the watch's own lines.
  const human = await cli.run(['status', handle.workflowId]);
  expectExit(human, 0);
  expect(human.stdout).toMatch(new RegExp(`^Watch ${handle.workflowId}: watching$`, 'm'));
  expect(human.stdout).toMatch(/points created in all, 3 today/);
  // `list` shows the watch, in its phase.
  const listed = await waitFor(
    'the watch in list',
    async () => (await cli.json<Array<{ workflowId: string; kind?: string; phase: string }>>(['list', '--since', '10m', '--limit', '1000'])).value.find((r) => r.workflowId === handle.workflowId),
    { timeoutMs: 10_000, intervalMs: 500 },
  );
  expect(listed).toMatchObject({ kind: 'watch', phase: 'watching' });

  const stop = await cli.run(['watch', 'stop', handle.workflowId]);
  expectExit(stop, 0);
  expect(stop.stdout).toMatch(/Stopped watch .* 3 points created in all/);
}, 120_000);

test('a device heard before its station exists gets its points once the station is there; watch stop leaves no session', async () => {
  const account = e2e.account();
  const handle = await startWatch({ account });
  const publisher = await Publisher.start(account, [report('WATCH-LATE', 2)], { intervalMs: 500 });
  try {
    await watchStatusWhen(handle, 'a cycle that found no station', (s) => (s.lastCycle?.changedDevices ?? 0) > 0, { timeoutMs: 20_000 });
    const late = await e2e.db.station({ station_id: 'WATCH-LATE', name: 'Late' });
    await pointsWithin(e2e, [late], { [late.station_id]: [1, 2] }, INTERVAL_MS + 8000);
  } finally {
    await publisher.stop();
  }

  expectExit(await cli.run(['watch', 'stop', handle.workflowId]), 0);
  // The broker kept no session for the watch's collector: reconnecting with its client id finds none.
  expect(await sessionPresent(sessionClientId(watchSessionKey(handle.workflowId)))).toBe(false);
}, 120_000);
