/**
 * Issue 13, points 2 and 3: every connection error names its setting, within 5 s, with exit status 2 — for Temporal,
 * MySQL and the MQTT broker, from the commands, the worker's start and `worker --check`; and a collector that cannot
 * reach the broker heartbeats why within 5 s and fails, at the window's end, naming the setting and the OS error.
 * Real services only: a private port nobody listens on, the shared MariaDB with a wrong password, a private
 * Mosquitto that refuses anonymous clients.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { createCollectActivity } from '../../src/activities/collect';
import { noMetrics } from '../../src/metrics';
import type { CollectorHeartbeat } from '../../src/shared';
import { describeRun, useCliRunner, type CliRun } from '../support/e2e-cli';
import { useE2e } from '../support/e2e';
import { freePort } from '../support/private-process';
import * as privateMosquitto from '../support/private-mosquitto';

const e2e = useE2e('connerr');
const cli = useCliRunner(e2e);

/** The bound, plus the start of a Node process on a busy machine. */
const WITHIN_MS = 5000 + 2000;

async function timed(args: string[], env: Record<string, string | undefined>): Promise<CliRun & { ms: number }> {
  const started = Date.now();
  const run = await cli.run(args, env);
  return { ...run, ms: Date.now() - started };
}

/** Exit 2, one line on stderr matching `line`, fast enough. */
function expectSettingError(run: CliRun & { ms: number }, line: RegExp): void {
  if (run.code !== 2) throw new Error(`expected exit 2\n${describeRun(run)}`);
  expect(run.stderr.trim().split('\n').at(-1)).toMatch(line);
  expect(run.stderr).not.toMatch(/tonic::transport|Failed to connect before the deadline|^Error: connect/m);
  expect(run.ms).toBeLessThan(WITHIN_MS);
}

let nobody: number;
beforeAll(async () => {
  nobody = await freePort();
});

describe('Temporal (TEMPORAL_ADDRESS)', () => {
  test('a command: status', async () => {
    const run = await timed(['status', 'any'], { TEMPORAL_ADDRESS: `127.0.0.1:${nobody}` });
    expectSettingError(run, new RegExp(`^Temporal 127\\.0\\.0\\.1:${nobody} \\(TEMPORAL_ADDRESS\\): connection refused: is the server running\\?$`));
  });

  test('a host name that does not resolve', async () => {
    const run = await timed(['list'], { TEMPORAL_ADDRESS: 'temporal.invalid:7233' });
    expectSettingError(run, /^Temporal temporal\.invalid:7233 \(TEMPORAL_ADDRESS\): host name not found/);
  });

  test('the worker at start', async () => {
    const run = await timed(['worker'], { TEMPORAL_ADDRESS: `127.0.0.1:${nobody}` });
    expectSettingError(run, new RegExp(`^Temporal 127\\.0\\.0\\.1:${nobody} \\(TEMPORAL_ADDRESS\\): connection refused: is the server running\\?$`));
  }, 30_000);
});

describe('MySQL (OCPP_MYSQL_*)', () => {
  test('a port nobody listens on: migrate', async () => {
    const run = await timed(['migrate'], { OCPP_MYSQL_HOST: '127.0.0.1', OCPP_MYSQL_PORT: String(nobody) });
    expectSettingError(run, new RegExp(`^MySQL 127\\.0\\.0\\.1:${nobody} \\(OCPP_MYSQL_HOST/OCPP_MYSQL_PORT\\): connection refused \\(ECONNREFUSED\\)`));
  });

  test('a host name that does not resolve: prune', async () => {
    const run = await timed(['prune', '--older-than', '30d', '--dry-run'], { OCPP_MYSQL_HOST: 'db.invalid' });
    expectSettingError(run, /^MySQL db\.invalid:\d+ \(OCPP_MYSQL_HOST\): host name not found \(ENOTFOUND\)/);
  });

  test('a wrong password: migrate, and the worker at start', async () => {
    const migrate = await timed(['migrate'], { OCPP_MYSQL_PASSWORD: 'not-the-password' });
    // The server as the settings name it, as the worker's line does.
    expectSettingError(migrate, /^MySQL [\w.-]+:\d+ \(OCPP_MYSQL_USER\/OCPP_MYSQL_PASSWORD\): login refused: Access denied for user .*\(errno 1045\)$/);
    const worker = await timed(['worker'], { OCPP_MYSQL_PASSWORD: 'not-the-password' });
    expectSettingError(worker, /^MySQL .* \(OCPP_MYSQL_USER\/OCPP_MYSQL_PASSWORD[^)]*\): .*Access denied for user/);
    for (const secret of e2e.secrets) expect(cli.allOutput()).not.toContain(secret);
  }, 30_000);
});

describe('the MQTT broker (CLOUD_HOST, CLOUD_CREDENTIALS)', () => {
  let refusing: privateMosquitto.PrivateMosquitto;
  beforeAll(async () => {
    refusing = await privateMosquitto.start({ settings: ['allow_anonymous false'] });
  }, 30_000);
  afterAll(async () => {
    await refusing?.stop();
  });

  test('worker --check: a broker nobody runs', async () => {
    const run = await timed(['worker', '--check'], { CLOUD_HOST: `mqtt://127.0.0.1:${nobody}` });
    expectSettingError(run, new RegExp(`^CLOUD_HOST 127\\.0\\.0\\.1:${nobody}: connection refused \\(ECONNREFUSED\\)$`));
  });

  test('worker --check and the worker at start: a broker that refuses the credentials', async () => {
    const check = await timed(['worker', '--check'], { CLOUD_HOST: refusing.url, CLOUD_CREDENTIALS: undefined });
    expectSettingError(check, /^CLOUD_CREDENTIALS: not authorized/);
    const worker = await timed(['worker'], { CLOUD_HOST: refusing.url, CLOUD_CREDENTIALS: undefined });
    expectSettingError(worker, /^CLOUD_CREDENTIALS: not authorized/);
  }, 30_000);

  test('the worker at start: a broker nobody runs', async () => {
    const run = await timed(['worker'], { CLOUD_HOST: `mqtt://127.0.0.1:${nobody}` });
    expectSettingError(run, new RegExp(`^CLOUD_HOST 127\\.0\\.0\\.1:${nobody}: connection refused \\(ECONNREFUSED\\)$`));
  }, 30_000);

  test('a collector that cannot connect heartbeats why within 5 s, and fails at the window end naming the setting', async () => {
    const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 60_000 });
    const beats: { at: number; details: CollectorHeartbeat }[] = [];
    env.on('heartbeat', (details: CollectorHeartbeat) => beats.push({ at: Date.now(), details }));
    const collect = createCollectActivity({ pool: e2e.db.pool, tables: e2e.db.tables, mqtt: { url: `mqtt://127.0.0.1:${nobody}`, options: {} }, log: { info: () => undefined, debug: () => undefined, warn: () => undefined, error: () => undefined }, metrics: noMetrics });
    const started = Date.now();
    const running = env.run(collect, { runKey: `connerr-${started}`, workflowId: 'connerr', maxConnectors: 16, windowEndsAt: new Date(started + 60_000).toISOString() });
    running.catch(() => undefined);
    const deadline = started + 5000;
    while (!beats.some((b) => b.details.connectionError !== undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const first = beats.find((b) => b.details.connectionError !== undefined);
    expect(first).toBeDefined();
    expect(first!.at - started).toBeLessThan(5000);
    expect(first!.details).toMatchObject({
      messages: 0,
      connected: false,
      connectionError: { setting: 'CLOUD_HOST', message: `CLOUD_HOST 127.0.0.1:${nobody}: connection refused (ECONNREFUSED)`, retryable: true },
    });
    // The window's end: the workflow cancels the collector.
    env.cancel();
    const failure = await running.then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      nonRetryable: true,
      message: `the collector never connected to the MQTT broker during the collection window: CLOUD_HOST 127.0.0.1:${nobody}: connection refused (ECONNREFUSED)`,
    });
    expect((failure as Error).message).not.toMatch(/never subscribed|see the worker log/);
  }, 30_000);
});
