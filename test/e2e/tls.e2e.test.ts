/**
 * Encrypted connections, against servers of this file's own (never the shared ones): a private MariaDB with
 * `require_secure_transport=ON` and a private Mosquitto that requires client certificates, both with a server
 * certificate from a throw-away CA made by openssl. A whole sync works with verification on; a wrong CA, a missing
 * client certificate or no TLS at all fails at once (not retried) with a message that names the variable to fix.
 */
import { ApplicationFailure, WorkflowFailedError, WorkflowIdConflictPolicy } from '@temporalio/client';
import mysql from 'mysql2/promise';
import { readFileSync } from 'node:fs';
import { loadDatabaseConfig, type Env } from '../../src/config';
import { databaseTlsProblem, toActivityFailure } from '../../src/db/errors';
import { createPool } from '../../src/db/pool';
import type { Log } from '../../src/log';
import { ERROR_TYPES, SYNC_FAILED, WORKFLOW_TYPE } from '../../src/shared';
import { createSyncWorker } from '../../src/worker';
import type { syncChargingPoints } from '../../src/workflows';
import { createdSince, snapshot, syncActivityAttempts } from '../support/e2e-assert';
import { buildCli, CliRunner, describeRun } from '../support/e2e-cli';
import { connectionOptions, type ServerConfig } from '../support/e2e-db';
import { report, useE2e } from '../support/e2e';
import * as privateMariadb from '../support/private-mariadb';
import * as privateMosquitto from '../support/private-mosquitto';
import { makeCertificates, type TestCertificates } from '../support/test-certs';

/** Each fault must show well within this: a retried one would take 30 s (the MQTT connect timeout) or more. */
const FAIL_FAST_MS = 15_000;
const TEST_TIMEOUT = 60_000;

let certs: TestCertificates | undefined;
let mariadb: privateMariadb.PrivateMariadb | undefined;
let mosquitto: privateMosquitto.PrivateMosquitto | undefined;

function ready<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} did not start (see beforeAll)`);
  return value;
}
const tls = (): TestCertificates => ready(certs, 'the certificates');

// Registered before useE2e: the servers exist when the harness creates its database and worker.
beforeAll(async () => {
  certs = makeCertificates();
  const server = { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey };
  [mariadb, mosquitto] = await Promise.all([
    privateMariadb.start({ tls: server, requireSecureTransport: true }),
    privateMosquitto.start({ tls: server, requireCertificate: true }),
  ]);
}, 90_000);

/**
 * root on the private MariaDB, over TLS verified as the worker will: verify-identity against our CA, by the name
 * `localhost` (the certificate's; verify-identity refuses an IP address, which mysql2 would not check).
 */
function adminServer(): ServerConfig {
  const { port } = ready(mariadb, 'the private MariaDB');
  const config = loadDatabaseConfig({
    OCPP_MYSQL_HOST: 'localhost',
    OCPP_MYSQL_PORT: String(port),
    OCPP_MYSQL_DATABASE: 'unused',
    OCPP_MYSQL_USER: 'root',
    OCPP_MYSQL_SSL: 'verify-identity',
    OCPP_MYSQL_SSL_CA_PATH: tls().ca,
  });
  return { host: config.host, port: config.port, user: config.user, password: config.password, tls: config.tls };
}

const e2e = useE2e('tls', {
  server: adminServer,
  broker: () => ({
    url: ready(mosquitto, 'the private Mosquitto').url,
    options: { ca: readFileSync(tls().ca), cert: readFileSync(tls().clientCert), key: readFileSync(tls().clientKey), rejectUnauthorized: true },
  }),
  workerEnv: () => ({
    CLOUD_HOST: ready(mosquitto, 'the private Mosquitto').url,
    CLOUD_TLS_CA_PATH: tls().ca,
    CLOUD_TLS_CERT_PATH: tls().clientCert,
    CLOUD_TLS_KEY_PATH: tls().clientKey,
  }),
});

const cli = new CliRunner(() => ({ PATH: process.env.PATH, ...e2e.env }));

// Registered after useE2e, so it runs after the harness has dropped its database and user.
afterAll(async () => {
  cli.dispose();
  await Promise.all([mosquitto?.stop(), mariadb?.stop()]);
  certs?.remove();
}, 30_000);

/** What the failure tests' workers print, kept apart from the harness worker's lines. */
function capture(): { log: Log; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: { info: (l) => lines.push(l), debug: () => undefined, warn: (l) => lines.push(l), error: (l) => lines.push(l) } };
}

/** The PEM body of the client key: it must never show in any output or history. */
function keyBody(): string {
  return readFileSync(tls().clientKey, 'utf8').split('\n')[1]!;
}

/** createSyncWorker with the harness's environment changed by `changes`; resolves to its error (or fails the test). */
async function workerStartError(changes: Env): Promise<{ error: Error; ms: number }> {
  const started = Date.now();
  try {
    const { worker, close } = await createSyncWorker({ env: { ...e2e.env, ...changes }, taskQueue: `${e2e.taskQueue}-refused`, log: capture().log });
    worker.shutdown();
    await close();
  } catch (err) {
    return { error: err as Error, ms: Date.now() - started };
  }
  throw new Error('the worker started, but it should have refused');
}

describe('with verification on', () => {
  test(
    'a whole sync: OCPP_MYSQL_SSL=verify-identity to a server that requires TLS, mqtts with a client certificate',
    async () => {
      const { db } = e2e;
      expect(e2e.env).toMatchObject({ OCPP_MYSQL_SSL: 'verify-identity', OCPP_MYSQL_SSL_CA_PATH: tls().ca, CLOUD_TLS_CERT_PATH: tls().clientCert });
      expect(e2e.env.CLOUD_HOST).toMatch(/^mqtts:\/\//);
      const station = await db.station({ station_id: 'TLS-0001', name: 'Encrypted Station' });
      await db.point(station, 1);
      const before = await snapshot(db);

      const handle = await e2e.collect(e2e.account(), [report('TLS-0001', 3)]);
      const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
      expect(waiting.plan).toMatchObject({ pointsToCreate: 2, stationsToChange: 1, processedDevices: 1 });
      await e2e.approve(handle, waiting.plan!.fingerprint);
      expect(await handle.result()).toMatchObject({ phase: 'applied', created: 2 });

      expect(Object.fromEntries(await createdSince(db, before))).toEqual({ [station.id]: [2, 3] });
      expect(await db.livePointIds(station)).toEqual([1, 2, 3]);
      expect(e2e.infoLines()).toEqual(expect.arrayContaining(['Connected to MQTT broker', '✓ Transaction committed successfully']));

      // The server refuses plain connections, so the worker's did use TLS; the key never travels.
      const history = JSON.stringify((await handle.fetchHistory()).events);
      expect(history).not.toContain(keyBody());
      expect(e2e.lines.map((l) => l.line).join('\n')).not.toContain(keyBody());
    },
    TEST_TIMEOUT,
  );
});

describe('MySQL: a TLS problem stops the worker at start, with the variable to fix', () => {
  test(
    'a wrong CA (OCPP_MYSQL_SSL_CA_PATH = an unrelated CA)',
    async () => {
      const { error, ms } = await workerStartError({ OCPP_MYSQL_SSL_CA_PATH: tls().otherCa });
      expect(ms).toBeLessThan(FAIL_FAST_MS);
      expect(error.message).toMatch(/^MySQL localhost:\d+ \(OCPP_MYSQL_SSL\): TLS: the database server's certificate is not trusted \(.*self-signed certificate in certificate chain\): set OCPP_MYSQL_SSL_CA_PATH/);
    },
    TEST_TIMEOUT,
  );

  test(
    'no TLS (OCPP_MYSQL_SSL=off) to a server with require_secure_transport',
    async () => {
      const { error, ms } = await workerStartError({ OCPP_MYSQL_SSL: 'off', OCPP_MYSQL_SSL_CA_PATH: undefined });
      expect(ms).toBeLessThan(FAIL_FAST_MS);
      // MariaDB answers as for a wrong password (MySQL would say ER_SECURE_TRANSPORT_REQUIRED): the message names both.
      expect(error.message).toMatch(/^MySQL localhost:\d+ \(OCPP_MYSQL_USER\/OCPP_MYSQL_PASSWORD\/OCPP_MYSQL_SSL\): ER_ACCESS_DENIED_ERROR: Access denied .*set OCPP_MYSQL_SSL\)$/);
      for (const secret of e2e.secrets) expect(error.message).not.toContain(secret);
    },
    TEST_TIMEOUT,
  );

  test(
    '`cp-sync worker` prints one line and exits 2, a setting to fix (wrong CA)',
    async () => {
      await buildCli();
      const run = await cli.run(['worker'], { OCPP_MYSQL_SSL_CA_PATH: tls().otherCa, TEMPORAL_TASK_QUEUE: `${e2e.taskQueue}-cli` });
      if (run.code !== 2) throw new Error(`expected exit 2\n${describeRun(run)}`);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^MySQL localhost:\d+ \(OCPP_MYSQL_SSL\): TLS: .*: set OCPP_MYSQL_SSL_CA_PATH to the CA certificate that signed it$/)]);
      expect(cli.allOutput()).not.toContain(keyBody());
    },
    TEST_TIMEOUT + 60_000,
  );

  test(
    "the activities classify mysql2's real errors: a TLS failure as a non-retryable TlsError",
    async () => {
      const server = adminServer();
      const errorOf = async (options: mysql.ConnectionOptions): Promise<unknown> => {
        try {
          await (await mysql.createConnection(options)).end();
        } catch (err) {
          return err;
        }
        throw new Error('connected, but should have failed');
      };
      const classified = (err: unknown): unknown => toActivityFailure(err);

      const wrongCa = await errorOf({ ...connectionOptions(server), ssl: { ca: readFileSync(tls().otherCa), rejectUnauthorized: true } });
      expect(wrongCa).toMatchObject({ code: 'HANDSHAKE_SSL_ERROR', fatal: true });
      const thrown = classified(wrongCa);
      expect(thrown).toBeInstanceOf(ApplicationFailure);
      expect(thrown).toMatchObject({ type: ERROR_TYPES.tls, nonRetryable: true, message: expect.stringContaining('set OCPP_MYSQL_SSL_CA_PATH') });

      const plain = await errorOf({ ...connectionOptions(server), ssl: undefined });
      expect(plain).toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR', errno: 1045 });
      expect(classified(plain)).toMatchObject({ type: ERROR_TYPES.database, nonRetryable: true });
    },
    TEST_TIMEOUT,
  );
});

describe('MySQL: verify-identity checks the host name, verify-ca does not', () => {
  test(
    "a server whose certificate (from the right CA) names another host: refused by verify-identity, accepted by verify-ca",
    async () => {
      const elsewhere = await privateMariadb.start({ tls: { ca: tls().ca, cert: tls().elsewhereCert, key: tls().elsewhereKey }, requireSecureTransport: true });
      const cipherWith = async (mode: string): Promise<unknown> => {
        const config = loadDatabaseConfig({
          OCPP_MYSQL_HOST: 'localhost',
          OCPP_MYSQL_PORT: String(elsewhere.port),
          OCPP_MYSQL_DATABASE: 'mysql',
          OCPP_MYSQL_USER: 'root',
          OCPP_MYSQL_SSL: mode,
          OCPP_MYSQL_SSL_CA_PATH: tls().ca,
        });
        const pool = createPool(config, 1);
        try {
          const [rows] = await pool.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
          return rows[0]?.Value;
        } catch (err) {
          return err;
        } finally {
          await pool.end();
        }
      };
      try {
        expect(await cipherWith('verify-ca')).toEqual(expect.stringMatching(/\w/));
        const refused = await cipherWith('verify-identity');
        expect(refused).toMatchObject({ code: 'HANDSHAKE_SSL_ERROR' });
        expect(databaseTlsProblem(refused)).toMatch(/^TLS: the database server's certificate is for another host \(.*localhost.*db\.invalid\): use in OCPP_MYSQL_HOST a name the certificate carries$/);
      } finally {
        await elsewhere.stop();
      }
    },
    TEST_TIMEOUT,
  );
});

describe('MQTT: a TLS problem fails the collection at once, not retried, with the variable to fix', () => {
  /** Runs a sync on a worker of its own whose environment differs by `changes`; returns how it failed. */
  async function failedSync(label: string, changes: Env): Promise<{ ms: number; failure: ApplicationFailure; attempts: number[]; error?: string }> {
    const taskQueue = `${e2e.taskQueue}-${label}`;
    const { worker, close } = await createSyncWorker({ env: { ...e2e.env, ...changes }, taskQueue, log: capture().log });
    const running = worker.run();
    try {
      const workflowId = e2e.workflowId(label);
      const started = Date.now();
      const handle = await e2e.client.workflow.start<typeof syncChargingPoints>(WORKFLOW_TYPE, {
        taskQueue,
        workflowId,
        // A long window: only a failed collection ends it within the test.
        args: [{ collectorDurationMs: 120_000, approvalTimeoutMs: 60_000, maxConnectors: 16, account: e2e.account() }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      });
      e2e.handle(workflowId);
      const error = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      const ms = Date.now() - started;
      expect(error).toBeInstanceOf(WorkflowFailedError);
      // The run's failure (its final status in the details) keeps the activity's message and the TLS failure as cause.
      const run = (error as WorkflowFailedError).cause;
      expect(run).toMatchObject({ type: SYNC_FAILED, message: 'Activity task failed' });
      const failure = run?.cause;
      expect(failure).toBeInstanceOf(ApplicationFailure);
      const attempts = syncActivityAttempts(await handle.fetchHistory());
      return { ms, failure: failure as ApplicationFailure, attempts, error: (await e2e.status(handle).catch(() => undefined))?.error };
    } finally {
      worker.shutdown();
      await running;
      await close();
    }
  }

  test(
    'a wrong CA (CLOUD_TLS_CA_PATH = an unrelated CA)',
    async () => {
      const { ms, failure, attempts } = await failedSync('mqtt-ca', { CLOUD_TLS_CA_PATH: tls().otherCa });
      expect(ms).toBeLessThan(FAIL_FAST_MS);
      expect(attempts).toEqual([1]);
      expect(failure).toMatchObject({ type: ERROR_TYPES.tls, nonRetryable: true });
      expect(failure.message).toBe(
        "TLS: the MQTT broker's certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain): set CLOUD_TLS_CA_PATH to the CA certificate that signed it",
      );
    },
    TEST_TIMEOUT,
  );

  test(
    'no client certificate for a broker that requires one',
    async () => {
      const { ms, failure, attempts, error } = await failedSync('mqtt-cert', { CLOUD_TLS_CERT_PATH: undefined, CLOUD_TLS_KEY_PATH: undefined });
      expect(ms).toBeLessThan(FAIL_FAST_MS);
      expect(attempts).toEqual([1]);
      expect(failure).toMatchObject({ type: ERROR_TYPES.tls, nonRetryable: true });
      expect(failure.message).toMatch(/^TLS: the MQTT broker requires a client certificate \(.*certificate required\): set CLOUD_TLS_CERT_PATH and CLOUD_TLS_KEY_PATH$/);
      // What `cp-sync status` and `result` show.
      expect(error).toBe(failure.message);
    },
    TEST_TIMEOUT,
  );
});
