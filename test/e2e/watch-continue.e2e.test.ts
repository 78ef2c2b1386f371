/**
 * A watch's continue-as-new against the real services (issue 15): with three cycles per run and a short interval it
 * continues as new while a device publishes and while a plan waits; the next run carries the counts (cycles,
 * createdTotal, devicesHeard) and the waiting plan, which stays approvable; and the MQTT session outlives the run:
 * a device that publishes one message while the collectors change runs still gets its points.
 */
import mqtt from 'mqtt';
import { deviceTopic } from '../../src/domain/topic';
import type { WatchInput, WatchStatus } from '../../src/watch-shared';
import { watchStatusQuery } from '../../src/workflows';
import { Publisher, report, useE2e, type StationRow } from '../support/e2e';
import { brokerUrl } from '../support/e2e-mqtt';
import { expectExit, useCliRunner, type CliRun } from '../support/e2e-cli';
import { startListeningWatch } from '../support/e2e-watch';
import { waitFor } from '../support/wait';

const e2e = useE2e('watchcan');
const cli = useCliRunner(e2e);

const INTERVAL_MS = 1500;
const CYCLES_PER_RUN = 3;

function startWatch(input: Partial<WatchInput> & { account: string }) {
  return startListeningWatch(e2e, { intervalMs: INTERVAL_MS, cyclesPerRun: CYCLES_PER_RUN, ...input });
}

type WatchHandle = Awaited<ReturnType<typeof startWatch>>;

async function statusUntil(handle: WatchHandle, what: string, done: (s: WatchStatus) => boolean, timeoutMs = 30_000): Promise<WatchStatus> {
  let last: WatchStatus | undefined;
  let lastError = '';
  return waitFor(
    what,
    async () => {
      try {
        // Right after continue-as-new the new run may not have answered its first workflow task yet.
        last = await handle.query(watchStatusQuery);
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        return false;
      }
      return done(last) && last;
    },
    { timeoutMs, intervalMs: 200, lastSeen: () => `${JSON.stringify({ phase: last?.phase, runs: last?.runs, cycles: last?.cycles, pending: last?.pending?.plan.fingerprint, error: last?.error })} ${lastError}` },
  );
}

async function currentRunId(handle: WatchHandle): Promise<string> {
  return (await handle.describe()).runId;
}

async function approveByCli(workflowId: string, fingerprint: string): Promise<CliRun> {
  return waitFor(
    'an approval not refused for a planning cycle',
    async () => {
      const run = await cli.run(['approve', workflowId, '--fingerprint', fingerprint, '--by', 'alice@ops']);
      return !/try again in a moment/.test(run.stderr + run.stdout) && run;
    },
    { timeoutMs: 30_000, intervalMs: 300 },
  );
}

async function livePointsWithin(station: StationRow, expected: number[], timeoutMs: number): Promise<void> {
  let last: number[] = [];
  await waitFor(
    `station ${station.station_id}'s points`,
    async () => {
      last = await e2e.db.livePointIds(station);
      return JSON.stringify(last) === JSON.stringify(expected);
    },
    { timeoutMs, intervalMs: 100, lastSeen: () => JSON.stringify(last) },
  );
}

/** One QoS 1 message, from a client of its own: a device that speaks once. */
async function publishOnce(account: string, deviceId: string, count: number): Promise<void> {
  const client = await mqtt.connectAsync(brokerUrl(), { clientId: `cps-e2e-once-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 0 });
  try {
    await client.publishAsync(deviceTopic(account, deviceId), String(count), { qos: 1, retain: false });
  } finally {
    await client.endAsync();
  }
}

test('continue-as-new while a device publishes and a plan waits: counts, the waiting plan and the MQTT session carry over', async () => {
  const account = e2e.account();
  const busy = await e2e.db.station({ station_id: 'WCAN-0001', name: 'Busy' });
  const quiet = await e2e.db.station({ station_id: 'WCAN-0002', name: 'Speaks once' });
  const handle = await startWatch({ account, autoApproveMaxPoints: 1 });
  const firstRunId = handle.firstExecutionRunId;
  const publisher = await Publisher.start(account, [report(busy.station_id, 2)], { intervalMs: 300 });
  try {
    const waiting = await statusUntil(handle, 'the plan to wait', (s) => s.phase === 'awaiting-approval');
    const fingerprint = waiting.pending!.plan.fingerprint;
    expect(waiting.devicesHeard).toBe(1);

    // The run continues as new while the plan waits and the device publishes; the next run carries it all.
    await waitFor('a continue-as-new', async () => (await currentRunId(handle)) !== firstRunId, { timeoutMs: 60_000, intervalMs: 200 });
    const carried = await statusUntil(handle, 'the next run to answer', (s) => s.runs >= 2);
    expect(carried).toMatchObject({ phase: 'awaiting-approval', devicesHeard: 1, createdTotal: 0, startedAt: waiting.startedAt });
    expect(carried.pending?.plan.fingerprint).toBe(fingerprint);
    expect(carried.cycles).toBeGreaterThanOrEqual(CYCLES_PER_RUN);
    expect(await e2e.db.livePointIds(busy)).toEqual([]);

    // Approvable in the new run.
    expectExit(await approveByCli(handle.workflowId, fingerprint), 0);
    const applied = await statusUntil(handle, 'the carried plan applied', (s) => s.createdTotal === 2 && s.pending === null);
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
    const subscriptions = (): number => e2e.infoLines().filter((l) => l === 'Subscribed to connectors-count').length;
    const subscribedBefore = subscriptions();
    await publishOnce(account, quiet.station_id, 1);
    // Sent while no collector listened (the next run's had not subscribed yet): only the kept session can deliver it.
    expect(subscriptions()).toBe(subscribedBefore);
    await livePointsWithin(quiet, [1], 60_000);
    expect(subscriptions()).toBeGreaterThan(subscribedBefore);
    expect(await currentRunId(handle)).not.toBe(runBefore);
    const after = await statusUntil(handle, 'the point counted', (s) => s.createdTotal === 3);
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
