/**
 * The collector's MQTT session and the broker's drop figures, with `cp-sync worker` as its own process (killed with
 * SIGKILL where a test needs a crash): a message published while no collector listens reaches the plan through the
 * run's persistent session; the session is gone once the window has closed; the broker's $SYS dropped-messages
 * counter is recorded in cp_sync_runs, from a private Mosquitto started by the test where its settings matter.
 */
import mqtt from 'mqtt';
import { collectionProgress } from '../../src/client/progress';
import { sessionClientId } from '../../src/mqtt/collector';
import { publishOnce, sessionPresent } from '../support/e2e-broker';
import { start as startMosquitto } from '../support/private-mosquitto';
import { buildCli, startWorkerProcess } from '../support/e2e-cli';
import { Publisher, report, useE2e } from '../support/e2e';
import { waitFor } from '../support/wait';

const e2e = useE2e('session');

beforeAll(async () => {
  await buildCli();
}, 120_000);

beforeEach(async () => {
  await e2e.db.clearOcppTables();
});

describe("the run's persistent MQTT session", () => {
  test.each([
    { protocol: 'MQTT 5 (the default)', end: 'killed (SIGKILL)', queue: 'v5', credentials: {}, stop: 'kill' as const },
    { protocol: 'MQTT 3.1.1 ("protocolVersion": 4 in CLOUD_CREDENTIALS)', end: 'killed (SIGKILL)', queue: 'v4', credentials: { protocolVersion: 4 }, stop: 'kill' as const },
    { protocol: 'MQTT 5 (the default)', end: 'shut down (SIGTERM)', queue: 'term', credentials: {}, stop: 'stop' as const },
  ])(
    '$protocol, worker $end: a device heard only while no collector ran is in the plan; after the window the broker keeps no session',
    async ({ queue, credentials, stop }) => {
      const { db } = e2e;
      await db.station({ station_id: 'SESS-HEARD', name: 'Heard before the crash' });
      await db.station({ station_id: 'SESS-MISSED', name: 'Spoke only while no collector ran' });
      const taskQueue = `${e2e.taskQueue}-${queue}`;
      const env = {
        PATH: process.env.PATH,
        ...e2e.env,
        CLOUD_CREDENTIALS: JSON.stringify({ ...(JSON.parse(e2e.env.CLOUD_CREDENTIALS!) as object), ...credentials }),
        TEMPORAL_TASK_QUEUE: taskQueue,
      };
      const account = e2e.account();
      const first = await startWorkerProcess(env);
      let second: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
      const heard = await Publisher.start(account, [report('SESS-HEARD', 2)]);
      try {
        // The window outlasts the heartbeat timeout (10 s) plus the retry, so that the retry happens inside it.
        const handle = await e2e.start({ account, collectorDurationMs: 20_000, dryRun: true }, undefined, taskQueue);
        const clientId = sessionClientId(handle.firstExecutionRunId);
        await waitFor('the first collector heard a device', async () => ((await collectionProgress(handle))?.devices ?? 0) >= 1, { timeoutMs: 15_000, intervalMs: 200 });
        await heard.stop();
        await first[stop]();
        if (stop === 'stop') expect(first.output()).toContain('Worker shutting down mid-window');

        // No collector runs now. The broker keeps the run's session (the probe leaves it in place, and takes nothing
        // from it: nothing is queued yet), and queues what is published meanwhile.
        expect(await sessionPresent(clientId, { keep: true })).toBe(true);
        await publishOnce(account, 'SESS-MISSED', 3);

        second = await startWorkerProcess(env);
        const status = await e2e.waitForPhase(handle, 'dry-run', 60_000);
        expect(status.collectionNote).toBeUndefined();
        expect(status.plan).toMatchObject({ processedDevices: 2, notFound: 0, pointsToCreate: 5, stationsToChange: 2 });
        expect(status.plan!.stations.map((s) => [s.stationId, s.expected, s.missing])).toEqual(
          expect.arrayContaining([
            ['SESS-HEARD', 2, [1, 2]],
            ['SESS-MISSED', 3, [1, 2, 3]],
          ]),
        );
        expect(second.output()).toContain('Resuming the collection window (attempt 2)');
        expect(second.output()).toContain("Resumed this run's MQTT session");

        // The window closed normally: the collector ended the session, so the broker keeps nothing for that id.
        expect(await sessionPresent(clientId)).toBe(false);
      } finally {
        await heard.stop();
        await first.kill();
        await second?.stop();
      }
    },
    120_000,
  );
});

describe("the broker's dropped-messages counter ($SYS)", () => {
  test(
    'is recorded at the start and the end of the window, and shows the messages a private broker dropped meanwhile',
    async () => {
      // Updates $SYS every second; a subscriber's queue holds 10 messages, the rest are dropped.
      const broker = await startMosquitto({ settings: ['sys_interval 1', 'max_queued_messages 10'] });
      const taskQueue = `${e2e.taskQueue}-sys`;
      let worker: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
      try {
        worker = await startWorkerProcess({ PATH: process.env.PATH, ...e2e.env, CLOUD_HOST: broker.url, TEMPORAL_TASK_QUEUE: taskQueue });
        await e2e.db.station({ station_id: 'SYS-0001', name: 'Heard on the private broker' });
        const account = e2e.account();
        const publisher = await Publisher.start(account, [report('SYS-0001', 1)], { broker: { url: broker.url } });
        try {
          const handle = await e2e.start({ account, collectorDurationMs: 8000, dryRun: true }, undefined, taskQueue);
          await waitFor('broker_dropped_start recorded', async () => (await e2e.db.runRecord(handle.firstExecutionRunId))?.broker_dropped_start != null, {
            timeoutMs: 8000,
            intervalMs: 200,
          });

          // A subscriber that has gone away with its session kept: its queue fills up and the broker drops the rest.
          const slow = 'cps-e2e-slow-subscriber';
          const topic = `${account}/drops`;
          await subscribeAndLeave(broker.url, slow, topic);
          await publishMany(broker.url, topic, 30);

          const status = await e2e.waitForPhase(handle, 'dry-run', 30_000);
          expect(status.plan).toMatchObject({ processedDevices: 1 });
          const record = await e2e.db.runRecord(handle.firstExecutionRunId);
          // A fresh broker had dropped nothing before: 0 at the start; 20 of the 30 messages were dropped.
          expect(Number(record?.broker_dropped_start)).toBe(0);
          expect(Number(record?.broker_dropped_end) - Number(record?.broker_dropped_start)).toBeGreaterThanOrEqual(10);
          // …and the plan shows them.
          expect(status.plan!.brokerDroppedMessages).toBe(Number(record?.broker_dropped_end) - Number(record?.broker_dropped_start));
          expect(worker.output()).toMatch(/The broker dropped \d+ messages \(all its clients\)/);
        } finally {
          await publisher.stop();
        }
      } finally {
        await worker?.stop();
        await broker.stop();
      }
    },
    90_000,
  );

  test(
    'a broker that denies $SYS does not disturb the collection: the figures stay unknown (NULL)',
    async () => {
      // Every client (anonymous, or with a user name as the worker) may use the stations' topics and nothing else:
      // $SYS is denied.
      const broker = await startMosquitto({ settings: ['sys_interval 1', 'acl_file {dir}/acl'], files: { acl: 'topic readwrite +/sweet-home/#\npattern readwrite +/sweet-home/#\n' } });
      const taskQueue = `${e2e.taskQueue}-nosys`;
      let worker: Awaited<ReturnType<typeof startWorkerProcess>> | undefined;
      try {
        worker = await startWorkerProcess({ PATH: process.env.PATH, ...e2e.env, CLOUD_HOST: broker.url, TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: 'debug' });
        await e2e.db.station({ station_id: 'NOSYS-0001', name: 'Heard without $SYS' });
        const account = e2e.account();
        const publisher = await Publisher.start(account, [report('NOSYS-0001', 2)], { broker: { url: broker.url } });
        try {
          const handle = await e2e.start({ account, collectorDurationMs: 4000, dryRun: true }, undefined, taskQueue);
          const status = await e2e.waitForPhase(handle, 'dry-run', 30_000);
          expect(status.plan).toMatchObject({ processedDevices: 1, pointsToCreate: 2 });
          const record = await e2e.db.runRecord(handle.firstExecutionRunId);
          expect(record).toMatchObject({ broker_dropped_start: null, broker_dropped_end: null });
          expect(status.plan!.brokerDroppedMessages).toBeUndefined();
          // Mosquitto 2.0 grants the subscription and then delivers nothing (read access is checked per message): no
          // figure, and nothing for the operator to worry about.
          expect(worker.output()).not.toMatch(/MQTT error|dropped-messages figures/);
        } finally {
          await publisher.stop();
        }
      } finally {
        await worker?.stop();
        await broker.stop();
      }
    },
    90_000,
  );
});

async function subscribeAndLeave(url: string, clientId: string, topic: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 0 }, false);
  await client.subscribeAsync(topic, { qos: 1 });
  await client.endAsync();
}

async function publishMany(url: string, topic: string, count: number): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `cps-e2e-burst-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 0 }, false);
  try {
    for (let i = 0; i < count; i++) await client.publishAsync(topic, String(i), { qos: 1 });
  } finally {
    await client.endAsync();
  }
}
