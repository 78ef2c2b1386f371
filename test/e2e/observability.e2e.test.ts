/**
 * What an SRE gets from a long-lived `cp-sync worker` process: lines with time, level and run (text), or one JSON
 * object per line (LOG_FORMAT=json), the SDK's own lines in the same format, no webpack report at start, no secret in
 * either format; and Prometheus metrics on METRICS_BIND_ADDRESS, scraped while a plan waits and after it is applied:
 * labelled as the SDK's own, never by a run's id.
 */
import { describeRun, startWorkerProcess, useCliRunner, type WorkerProcess } from '../support/e2e-cli';
import { freePort } from '../support/private-process';
import { scrape, valueOf, type Sample } from '../support/e2e-metrics';
import { Publisher, report, useE2e } from '../support/e2e';
import { waitFor } from '../support/wait';

const e2e = useE2e('obs');
const cli = useCliRunner(e2e);

interface JsonLine {
  time: string;
  level: string;
  msg: string;
  workflowId?: string;
  runId?: string;
  activity?: string;
  attempt?: number;
  [field: string]: unknown;
}

function jsonLines(output: string): JsonLine[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as JsonLine;
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
    });
}

/** Scrapes until `ready` holds (workflow metrics are exported after the workflow task completes). */
async function scrapeUntil(address: string, ready: (samples: Sample[]) => boolean, timeoutMs = 10_000): Promise<Sample[]> {
  return waitFor(
    `the metrics at ${address} get there`,
    async () => {
      const samples = await scrape(address);
      return ready(samples) && samples;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/**
 * The sync's series are labelled as the SDK's own (snake_case: task_queue, workflow_type, activity_type), and none
 * by a value that grows without bound: no run's workflow id, as a label name or a value.
 */
function expectPrometheusLabels(samples: Sample[], workflowId: string): void {
  const ours = samples.filter((s) => s.name.startsWith('cp_sync_'));
  expect(ours.length).toBeGreaterThan(0);
  for (const sample of ours) {
    for (const [name, value] of Object.entries(sample.labels)) {
      expect(`${sample.name} ${name}`).toMatch(/ [a-z]+(_[a-z]+)*$/);
      expect(value).not.toContain(workflowId);
    }
    expect(sample.labels).not.toHaveProperty('workflow_id');
  }
  const labelsOf = (name: string): string[] => Object.keys(ours.find((s) => s.name === name)?.labels ?? {}).sort();
  expect(labelsOf('cp_sync_plans_total')).toEqual(expect.arrayContaining(['namespace', 'outcome', 'task_queue', 'workflow_type']));
  expect(labelsOf('cp_sync_activity_attempts_total')).toEqual(expect.arrayContaining(['activity_type', 'namespace', 'outcome', 'task_queue']));
}

function expectNoSecretOrBundlerChatter(output: string): void {
  for (const secret of e2e.secrets) expect(output).not.toContain(secret);
  expect(output).not.toMatch(/webpack|Workflow bundle created|asset workflow-bundle/i);
}

test(
  'LOG_FORMAT=json and METRICS_BIND_ADDRESS: JSON lines with the run, and the metrics during and after a sync',
  async () => {
    const { db } = e2e;
    await db.station({ station_id: 'OBS-1', name: 'Observed' });
    const address = `127.0.0.1:${await freePort()}`;
    const taskQueue = `${e2e.taskQueue}-json`;
    let worker: WorkerProcess | undefined = await startWorkerProcess({
      PATH: process.env.PATH,
      ...e2e.env,
      TEMPORAL_TASK_QUEUE: taskQueue,
      LOG_FORMAT: 'json',
      METRICS_BIND_ADDRESS: address,
    });
    try {
      const account = e2e.account();
      const publisher = await Publisher.start(account, [report('OBS-1', 2), report('OBS-UNKNOWN', 1), report('OBS-BAD', 'abc')]);
      const workflowId = e2e.workflowId('json');
      let handle;
      try {
        handle = await e2e.start({ account }, workflowId, taskQueue);
        await e2e.waitForPhase(handle, 'awaiting-approval');
      } finally {
        await publisher.stop();
      }

      const queue = { task_queue: taskQueue };
      const waiting = await scrapeUntil(address, (s) => valueOf(s, 'cp_sync_runs_awaiting_approval', queue) === 1);
      expect(valueOf(waiting, 'cp_sync_messages_received_total')).toBeGreaterThanOrEqual(9);
      expect(valueOf(waiting, 'cp_sync_messages_rejected_total')).toBeGreaterThanOrEqual(3);
      expect(valueOf(waiting, 'cp_sync_plan_devices')).toBe(2);
      expect(valueOf(waiting, 'cp_sync_plan_devices_not_found')).toBe(1);
      expect(valueOf(waiting, 'cp_sync_plan_points_to_create')).toBe(2);
      const oldestWait = valueOf(waiting, 'cp_sync_oldest_approval_wait_seconds', queue)!;
      expect(oldestWait).toBeGreaterThanOrEqual(0);
      expect(oldestWait).toBeLessThan(120);
      expect(valueOf(waiting, 'cp_sync_activity_attempts_total', { ...queue, activity_type: 'diffStations', outcome: 'succeeded' })).toBe(1);
      expect(valueOf(waiting, 'cp_sync_points_created_total') ?? 0).toBe(0);
      // The SDK's own metrics on the same endpoint.
      expect(valueOf(waiting, 'temporal_activity_execution_latency_seconds_count', { activity_type: 'diffStations' })).toBe(1);

      await e2e.approve(handle);
      await e2e.waitForPhase(handle, 'applied');
      const after = await scrapeUntil(address, (s) => valueOf(s, 'cp_sync_plans_total', { outcome: 'applied' }) === 1);
      expect(valueOf(after, 'cp_sync_plans_total', { ...queue, workflow_type: 'syncChargingPoints', outcome: 'applied' })).toBe(1);
      expect(valueOf(after, 'cp_sync_points_created_total')).toBe(2);
      expect(valueOf(after, 'cp_sync_approval_wait_seconds_count', { ...queue, outcome: 'approved' })).toBe(1);
      expect(valueOf(after, 'cp_sync_runs_awaiting_approval', queue)).toBe(0);
      expect(valueOf(after, 'cp_sync_oldest_approval_wait_seconds', queue)).toBe(0);
      expect(valueOf(after, 'cp_sync_activity_attempts_total', { ...queue, activity_type: 'applyMissingPoints', outcome: 'succeeded' })).toBe(1);
      expectPrometheusLabels(after, workflowId);

      expect(await worker.stop()).toBe(0);
      const output = worker.output();
      worker = undefined;
      const lines = jsonLines(output);
      for (const line of lines) {
        expect(Number.isNaN(Date.parse(line.time))).toBe(false);
        expect(['trace', 'debug', 'info', 'warn', 'error']).toContain(line.level);
        expect(typeof line.msg).toBe('string');
      }
      const { runId } = (await handle.describe());
      expect(lines.find((l) => l.msg === 'Collection completed!')).toMatchObject({ level: 'info', workflowId, runId, activity: 'collectConnectorCounts', attempt: 1 });
      expect(lines.find((l) => l.msg === 'No station found for device: OBS-UNKNOWN')).toMatchObject({ workflowId, runId, activity: 'diffStations' });
      expect(lines.find((l) => l.msg === 'Total charging points created: 2')).toMatchObject({ workflowId, runId, activity: 'applyMissingPoints', attempt: 1 });
      // The operator lines carry what they are about as keys; the decisions are lines of their own, with theirs.
      expect(lines.find((l) => l.msg === 'No station found for device: OBS-UNKNOWN')).toMatchObject({ deviceId: 'OBS-UNKNOWN' });
      expect(lines.find((l) => l.msg === 'Mismatch! Expected 2, but found 0 points')).toMatchObject({ deviceId: 'OBS-1', stationId: expect.any(String), expected: 2, found: 0 });
      expect(lines.find((l) => l.msg.startsWith('Rejected message on '))).toMatchObject({ topic: expect.stringContaining('OBS-BAD'), reason: expect.any(String) });
      expect(lines.find((l) => l.msg === 'Total charging points created: 2')).toMatchObject({ created: 2 });
      const { fingerprint } = await handle.result();
      expect(lines.find((l) => l.msg.startsWith('Waiting for approval: '))).toMatchObject({ level: 'info', workflowId, fingerprint, pointsToCreate: 2, deadline: expect.any(String) });
      expect(lines.find((l) => l.msg.startsWith('Approved by e2e-operator'))).toMatchObject({ level: 'info', workflowId, by: 'e2e-operator', fingerprint });
      // The SDK's own lines go through the same logger.
      expect(lines.find((l) => l.msg === 'Worker state changed')).toMatchObject({ level: 'info', sdkComponent: 'worker', state: 'RUNNING' });
      expectNoSecretOrBundlerChatter(output);
    } finally {
      await worker?.kill();
    }
  },
  90_000,
);

test(
  'default text format: every line starts with the ISO time and the level, a run\'s lines carry its workflow id, the wording follows unchanged',
  async () => {
    await e2e.db.station({ station_id: 'OBS-TEXT', name: 'Text' });
    const taskQueue = `${e2e.taskQueue}-text`;
    const worker = await startWorkerProcess({ PATH: process.env.PATH, ...e2e.env, TEMPORAL_TASK_QUEUE: taskQueue });
    let output: string;
    const workflowId = e2e.workflowId('text');
    try {
      const account = e2e.account();
      // The container healthcheck: this host's worker polls this queue, and nobody polls another one.
      const healthy = await cli.run(['worker', '--check'], { TEMPORAL_TASK_QUEUE: taskQueue });
      expect(healthy.code === 0 ? healthy.stdout : describeRun(healthy)).toContain(`polls task queue ${taskQueue}`);
      const unhealthy = await cli.run(['worker', '--check'], { TEMPORAL_TASK_QUEUE: `${taskQueue}-nobody` });
      expect(unhealthy.code === 1 ? unhealthy.stderr : describeRun(unhealthy)).toContain(`worker check: task queue ${taskQueue}-nobody (workflow tasks): no worker of host`);
      const publisher = await Publisher.start(account, [report('OBS-TEXT', 3)]);
      try {
        const handle = await e2e.start({ account, dryRun: true }, workflowId, taskQueue);
        await e2e.waitForPhase(handle, 'dry-run');
      } finally {
        await publisher.stop();
      }
    } finally {
      expect(await worker.stop()).toBe(0);
      output = worker.output();
    }
    const lines = output.split('\n').filter((line) => line !== '');
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (TRACE|DEBUG|INFO |WARN |ERROR) /);
    const escaped = workflowId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(output).toMatch(new RegExp(`^\\S+Z INFO  \\[${escaped}\\] Connected to MQTT broker$`, 'm'));
    expect(output).toMatch(new RegExp(`^\\S+Z INFO  \\[${escaped}\\] Mismatch! Expected 3, but found 0 points$`, 'm'));
    expect(output).toMatch(/^\S+Z INFO {2}Worker listening on task queue /m);
    expect(output).toMatch(/^\S+Z INFO {2}Worker state changed \{"state":"RUNNING"\}$/m);
    expectNoSecretOrBundlerChatter(output);
  },
  90_000,
);
