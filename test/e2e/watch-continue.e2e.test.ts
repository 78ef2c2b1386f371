/**
 * A watch's continue-as-new against the real services (issue 15): with three cycles per run and a short interval it
 * continues as new while a device publishes and while a plan waits; the next run carries the counts (cycles,
 * createdTotal, devicesHeard) and the waiting plan, which stays approvable; and the MQTT session outlives the run:
 * a device that publishes one message while the collectors change runs still gets its points.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { WatchInput } from '../../src/watch-shared';
import { Publisher, report, useE2e } from '../support/e2e';
import { publishOnce } from '../support/e2e-broker';
import { expectExit, useCliRunner } from '../support/e2e-cli';
import { approveWatchByCli, pointsWithin, startListeningWatch, subscriptions, watchStatusWhen } from '../support/e2e-watch';
import { waitFor } from '../support/wait';

const e2e = useE2e('watchcan');
const cli = useCliRunner(e2e);

const INTERVAL_MS = 1500;
const CYCLES_PER_RUN = 3;

function startWatch(input: Partial<WatchInput> & { account: string }) {
  return startListeningWatch(e2e, { intervalMs: INTERVAL_MS, cyclesPerRun: CYCLES_PER_RUN, ...input });
}

async function currentRunId(handle: WorkflowHandle): Promise<string> {
  return (await handle.describe()).runId;
}

test('continue-as-new while a device publishes and a plan waits: counts, the waiting plan and the MQTT session carry over', async () => {
  const account = e2e.account();
  const busy = await e2e.db.station({ station_id: 'WCAN-0001', name: 'Busy' });
  const quiet = await e2e.db.station({ station_id: 'WCAN-0002', name: 'Speaks once' });
  const handle = await startWatch({ account, autoApproveMaxPoints: 1 });
  const firstRunId = handle.firstExecutionRunId;
  const publisher = await Publisher.start(account, [report(busy.station_id, 2)], { intervalMs: 300 });
  try {
    const waiting = await watchStatusWhen(handle, 'the plan to wait', (s) => s.phase === 'awaiting-approval');
    const fingerprint = waiting.pending!.plan.fingerprint;
    expect(waiting.devicesHeard).toBe(1);

    // The run continues as new while the plan waits and the device publishes; the next run carries it all.
    await waitFor('a continue-as-new', async () => (await currentRunId(handle)) !== firstRunId, { timeoutMs: 60_000, intervalMs: 200 });
    const carried = await watchStatusWhen(handle, 'the next run to answer', (s) => s.runs >= 2);
    expect(carried).toMatchObject({ phase: 'awaiting-approval', devicesHeard: 1, createdTotal: 0, startedAt: waiting.startedAt });
    expect(carried.pending?.plan.fingerprint).toBe(fingerprint);
    expect(carried.cycles).toBeGreaterThanOrEqual(CYCLES_PER_RUN);
    expect(await e2e.db.livePointIds(busy)).toEqual([]);

    // Approvable in the new run.
    expectExit(await approveWatchByCli(cli, handle.workflowId, fingerprint), 0);
    const applied = await watchStatusWhen(handle, 'the carried plan applied', (s) => s.createdTotal === 2 && s.pending === null);
    expect(applied.lastApproval).toMatchObject({ by: 'alice@ops', fingerprint });
    expect(await e2e.db.livePointIds(busy)).toEqual([1, 2]);

    // The session: a device speaks once, the moment a collector leaves for the next run. The broker keeps the
    // message for the session, and the next run's collector gets it.
    const runBefore = await currentRunId(handle);
    const stoppedBefore = e2e.infoLines().filter((l) => l.startsWith('Watch collector stopped')).length;
    await waitFor('a collector leaving for the next run', () => e2e.infoLines().filter((l) => l.startsWith('Watch collector stopped')).length > stoppedBefore, {
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    const subscribedBefore = subscriptions(e2e);
    await publishOnce(account, quiet.station_id, 1);
    // Sent while no collector listened (the next run's had not subscribed yet): only the kept session can deliver it.
    expect(subscriptions(e2e)).toBe(subscribedBefore);
    await pointsWithin(e2e, [quiet], { [quiet.station_id]: [1] }, 60_000);
    expect(subscriptions(e2e)).toBeGreaterThan(subscribedBefore);
    expect(await currentRunId(handle)).not.toBe(runBefore);
    const after = await watchStatusWhen(handle, 'the point counted', (s) => s.createdTotal === 3);
    expect(after).toMatchObject({ phase: 'watching', pending: null, devicesHeard: 2 });
    expect(after.runs).toBeGreaterThanOrEqual(3);
    expect(after.cycles).toBeGreaterThan(carried.cycles);
    // Nothing twice.
    expect((await e2e.db.allPoints()).filter((p) => !p.deleted)).toHaveLength(3);
  } finally {
    await publisher.stop();
  }
  expectExit(await cli.run(['watch', 'stop', handle.workflowId]), 0);
}, 240_000);
