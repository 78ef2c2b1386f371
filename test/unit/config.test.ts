import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  loadDatabaseConfig,
  loadLogLevel,
  loadObservabilityConfig,
  secretValues,
  loadMqttConfig,
  loadNotifyWebhookUrl,
  loadPlanDuringWindow,
  loadSyncDefaults,
  loadTemporalConfig,
  type Env,
} from '../../src/config';
import { DEFAULT_TASK_QUEUE } from '../../src/shared';

const CREDENTIALS_SECRET = 's3cr3t-cloud-pa55';
const DB_SECRET = 'hunter2-db-pa55';

/** What a worker's environment typically holds. */
function anEnv(overrides: Env = {}): Env {
  return {
    CLOUD_HOST: 'mqtts://broker.example.com:8883',
    CLOUD_CREDENTIALS: JSON.stringify({ username: 'sync', password: CREDENTIALS_SECRET, clientId: 'cp-sync' }),
    OCPP_MYSQL_DATABASE: 'ocpp',
    OCPP_MYSQL_USER: 'sync',
    OCPP_MYSQL_PASSWORD: DB_SECRET,
    ...overrides,
  };
}

/** The ConfigError `load` throws, or a test failure when it throws none or another error. */
function configError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the configuration loaded');
}

describe('loadMqttConfig', () => {
  it('reads the broker URL and the connect options from CLOUD_CREDENTIALS', () => {
    expect(loadMqttConfig(anEnv())).toEqual({
      url: 'mqtts://broker.example.com:8883',
      options: { username: 'sync', password: CREDENTIALS_SECRET, clientId: 'cp-sync' },
    });
  });

  it.each([undefined, '', '  '])('has no connect options when CLOUD_CREDENTIALS is %j', (credentials) => {
    expect(loadMqttConfig(anEnv({ CLOUD_CREDENTIALS: credentials })).options).toEqual({});
  });

  it.each(['mqtt://127.0.0.1:1883', 'mqtts://b:8883', 'ws://b/mqtt', 'wss://b/mqtt', 'tcp://b:1883', 'ssl://b:8883'])('accepts CLOUD_HOST %s', (url) => {
    expect(loadMqttConfig(anEnv({ CLOUD_HOST: url })).url).toBe(url);
  });
});

describe('loadDatabaseConfig', () => {
  it('reads every variable', () => {
    expect(
      loadDatabaseConfig(anEnv({ OCPP_MYSQL_HOST: 'db.internal', OCPP_MYSQL_PORT: '3307' })),
    ).toEqual({ host: 'db.internal', port: 3307, database: 'ocpp', toolDatabase: 'cp_sync', user: 'sync', password: DB_SECRET });
  });

  it("reads CP_SYNC_DATABASE, the tool's own schema (cp_sync by default; may be the ocpp-db database itself)", () => {
    expect(loadDatabaseConfig(anEnv({ CP_SYNC_DATABASE: 'ops_tools' })).toolDatabase).toBe('ops_tools');
    expect(loadDatabaseConfig(anEnv({ CP_SYNC_DATABASE: 'ocpp' })).toolDatabase).toBe('ocpp');
  });

  it('defaults to 127.0.0.1:3306 and an empty password', () => {
    expect(loadDatabaseConfig({ OCPP_MYSQL_DATABASE: 'ocpp', OCPP_MYSQL_USER: 'root' })).toEqual({
      host: '127.0.0.1',
      port: 3306,
      database: 'ocpp',
      toolDatabase: 'cp_sync',
      user: 'root',
      password: '',
    });
  });

  it('treats an empty port like an absent one', () => {
    expect(loadDatabaseConfig(anEnv({ OCPP_MYSQL_PORT: '' })).port).toBe(3306);
  });

  it("reads OCPP_MYSQL_LOCK_WAIT_TIMEOUT in seconds; absent, the server's own applies", () => {
    expect(loadDatabaseConfig(anEnv({ OCPP_MYSQL_LOCK_WAIT_TIMEOUT: '5' })).lockWaitTimeoutSeconds).toBe(5);
    expect(loadDatabaseConfig(anEnv({})).lockWaitTimeoutSeconds).toBeUndefined();
  });
});

/** PEM-shaped files in a temp dir (their contents are never parsed by the loader, only recognised). */
const pemDir = mkdtempSync(join(tmpdir(), 'cps-config-test-'));
afterAll(() => rmSync(pemDir, { recursive: true, force: true }));
const KEY_SECRET = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-secret-key-body';
function pemFile(name: string, text: string): string {
  const path = join(pemDir, name);
  writeFileSync(path, text);
  return path;
}
const CA = pemFile('ca.pem', '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n');
const CERT = pemFile('client.pem', '-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n');
const KEY = pemFile('client.key', `-----BEGIN PRIVATE KEY-----\n${KEY_SECRET}\n-----END PRIVATE KEY-----\n`);
const RSA_KEY = pemFile('client-rsa.key', `-----BEGIN RSA PRIVATE KEY-----\n${KEY_SECRET}\n-----END RSA PRIVATE KEY-----\n`);
const NOT_PEM = pemFile('not.pem', `${KEY_SECRET}\n`);
const MISSING = join(pemDir, 'missing.pem');

describe('loadMqttConfig: TLS files', () => {
  it('adds the files to the connect options as ca, cert, key, and verifies the broker', () => {
    const { options } = loadMqttConfig(anEnv({ CLOUD_TLS_CA_PATH: CA, CLOUD_TLS_CERT_PATH: CERT, CLOUD_TLS_KEY_PATH: KEY }));
    expect(options).toMatchObject({ username: 'sync', password: CREDENTIALS_SECRET, rejectUnauthorized: true });
    expect(String(options.ca)).toContain('MIIBca');
    expect(String(options.cert)).toContain('MIIBclient');
    expect(String(options.key)).toContain(KEY_SECRET);
  });

  it.each([
    ['only a CA', { CLOUD_TLS_CA_PATH: CA }, ['ca']],
    ['only a client certificate', { CLOUD_TLS_CERT_PATH: CERT, CLOUD_TLS_KEY_PATH: RSA_KEY }, ['cert', 'key']],
  ])('%s', (_case, env, present) => {
    const { options } = loadMqttConfig(anEnv(env));
    expect(['ca', 'cert', 'key'].filter((option) => options[option] !== undefined)).toEqual(present);
  });

  it('keeps today\'s options without them, for mqtts:// too', () => {
    expect(loadMqttConfig(anEnv()).options).toEqual({ username: 'sync', password: CREDENTIALS_SECRET, clientId: 'cp-sync' });
  });
});

describe('loadDatabaseConfig: OCPP_MYSQL_SSL', () => {
  it.each([
    ['off by default', {}, undefined],
    ['off', { OCPP_MYSQL_SSL: 'off' }, undefined],
    ['on: encrypted, the server not verified', { OCPP_MYSQL_SSL: 'on' }, { mode: 'on' }],
    ['on with a client certificate', { OCPP_MYSQL_SSL: 'on', OCPP_MYSQL_SSL_CERT_PATH: CERT, OCPP_MYSQL_SSL_KEY_PATH: KEY }, { mode: 'on', certPath: CERT, keyPath: KEY }],
    ['verify-ca with its CA', { OCPP_MYSQL_SSL: 'verify-ca', OCPP_MYSQL_SSL_CA_PATH: CA }, { mode: 'verify-ca', caPath: CA }],
    [
      'verify-identity with a client certificate',
      { OCPP_MYSQL_HOST: 'db.example.com', OCPP_MYSQL_SSL: 'verify-identity', OCPP_MYSQL_SSL_CA_PATH: CA, OCPP_MYSQL_SSL_CERT_PATH: CERT, OCPP_MYSQL_SSL_KEY_PATH: KEY },
      { mode: 'verify-identity', caPath: CA, certPath: CERT, keyPath: KEY },
    ],
  ])('%s', (_case, env, expected) => {
    const { tls } = loadDatabaseConfig(anEnv(env));
    if (expected === undefined) expect(tls).toBeUndefined();
    else expect(tls).toMatchObject(expected);
  });

  it('reads the files once, at start', () => {
    const { tls } = loadDatabaseConfig(
      anEnv({ OCPP_MYSQL_HOST: 'localhost', OCPP_MYSQL_SSL: 'verify-identity', OCPP_MYSQL_SSL_CA_PATH: CA, OCPP_MYSQL_SSL_CERT_PATH: CERT, OCPP_MYSQL_SSL_KEY_PATH: KEY }),
    );
    expect(tls?.ca?.toString()).toContain('MIIBca');
    expect(tls?.cert?.toString()).toContain('MIIBclient');
    expect(tls?.key?.toString()).toContain(KEY_SECRET);
  });
});

describe('loadTemporalConfig', () => {
  it('defaults to the local dev server without TLS', () => {
    expect(loadTemporalConfig({})).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: DEFAULT_TASK_QUEUE,
      uiUrl: 'http://127.0.0.1:8233',
      apiKey: undefined,
      tls: undefined,
    });
  });

  it('reads a Temporal Cloud setting; an API key turns TLS on', () => {
    const config = loadTemporalConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_TASK_QUEUE: 'cp-sync-prod',
      TEMPORAL_API_KEY: 'key',
      TEMPORAL_UI_URL: 'https://cloud.temporal.io/',
    });
    expect(config).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', taskQueue: 'cp-sync-prod', apiKey: 'key' });
    expect(config.tls).toBeDefined();
  });

  it('strips trailing slashes from TEMPORAL_UI_URL', () => {
    expect(loadTemporalConfig({ TEMPORAL_UI_URL: 'http://ui.internal:8080//' }).uiUrl).toBe('http://ui.internal:8080');
  });

  it('reads the mTLS paths; a certificate turns TLS on', () => {
    expect(
      loadTemporalConfig({ TEMPORAL_TLS_CERT_PATH: '/tls/client.pem', TEMPORAL_TLS_KEY_PATH: '/tls/client.key', TEMPORAL_TLS_CA_PATH: '/tls/ca.pem' }).tls,
    ).toEqual({ clientCertPath: '/tls/client.pem', clientKeyPath: '/tls/client.key', serverRootCACertificatePath: '/tls/ca.pem', serverNameOverride: undefined });
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads TEMPORAL_TLS=%s', (flag, on) => {
    expect(loadTemporalConfig({ TEMPORAL_TLS: flag }).tls !== undefined).toBe(on);
  });
});

describe('loadSyncDefaults', () => {
  it('defaults to the original tool: a 60 s window, 16 connectors, normal mode; 24 h to approve', () => {
    expect(loadSyncDefaults({})).toEqual({ collectorDurationMs: 60_000, approvalTimeoutMs: 86_400_000, maxConnectors: 16, testDeviceId: undefined, collectors: 1, maxSilentStations: 50 });
  });

  it('reads every variable', () => {
    expect(loadSyncDefaults({ COLLECTOR_DURATION: '5000', APPROVAL_TIMEOUT: '15m', MAX_CONNECTORS: '8', TEST_DEVICE_ID: '6r43-lnud', COLLECTORS: '3', MAX_SILENT_STATIONS: '20' })).toEqual({
      collectorDurationMs: 5000,
      approvalTimeoutMs: 900_000,
      maxConnectors: 8,
      testDeviceId: '6r43-lnud',
      collectors: 3,
      maxSilentStations: 20,
    });
  });

  it.each(['101', '-1', '50%', 'half'])('refuses MAX_SILENT_STATIONS %j, naming the variable', (raw) => {
    expect(() => loadSyncDefaults({ MAX_SILENT_STATIONS: raw })).toThrow(/^MAX_SILENT_STATIONS: expected a percentage of live stations from 0 to 100/);
  });

  it('reads COLLECTOR_DURATION with a unit', () => {
    expect(loadSyncDefaults({ COLLECTOR_DURATION: '90s' }).collectorDurationMs).toBe(90_000);
  });

  it.each(['', '   '])('treats TEST_DEVICE_ID %j as normal mode, as the original did', (testDeviceId) => {
    expect(loadSyncDefaults({ TEST_DEVICE_ID: testDeviceId }).testDeviceId).toBeUndefined();
  });
});

describe('loadPlanDuringWindow', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['true', true],
    ['1', true],
  ])('PLAN_DURING_WINDOW %j → %s (off unless asked for)', (raw, expected) => {
    expect(loadPlanDuringWindow({ PLAN_DURING_WINDOW: raw })).toBe(expected);
  });

  it('names the variable on a bad value', () => {
    expect(() => loadPlanDuringWindow({ PLAN_DURING_WINDOW: 'on' })).toThrow(new ConfigError('PLAN_DURING_WINDOW: expected true or false (got "on")'));
  });
});

describe('loadLogLevel', () => {
  it.each([
    [undefined, 'info'],
    ['debug', 'debug'],
  ])('LOG_LEVEL %j → %s', (level, expected) => {
    expect(loadLogLevel({ LOG_LEVEL: level })).toBe(expected);
  });
});

describe('loadObservabilityConfig', () => {
  it('defaults: text lines at info, no metrics endpoint', () => {
    expect(loadObservabilityConfig({})).toEqual({ logLevel: 'info', logFormat: 'text', metricsBindAddress: undefined });
  });

  it.each(['127.0.0.1:9464', '0.0.0.0:9464', '[::]:9464'])('METRICS_BIND_ADDRESS %s', (address) => {
    expect(loadObservabilityConfig({ METRICS_BIND_ADDRESS: address, LOG_FORMAT: 'json' })).toMatchObject({ logFormat: 'json', metricsBindAddress: address });
  });
});

describe('secretValues', () => {
  it('lists the MQTT credentials, the database password and the Temporal API key', () => {
    const secrets = secretValues({
      mqtt: loadMqttConfig(anEnv({ CLOUD_HOST: 'mqtt://u1:p1-secret@broker:1883', CLOUD_CREDENTIALS: JSON.stringify({ username: 'mqtt-user', password: CREDENTIALS_SECRET }) })),
      database: loadDatabaseConfig(anEnv({ OCPP_MYSQL_PASSWORD: 'db-secret' })),
      temporal: loadTemporalConfig({ TEMPORAL_API_KEY: 'api-key-secret' }),
    });
    expect(secrets).toEqual(expect.arrayContaining([CREDENTIALS_SECRET, 'mqtt-user', 'u1:p1-secret', 'p1-secret', 'db-secret', 'api-key-secret']));
  });
});

describe('a bad value', () => {
  // [case, the variable the message must start with, the loader, the environment]
  const cases: [string, string, (env: Env) => unknown, Env][] = [
    ['CLOUD_CREDENTIALS not JSON', 'CLOUD_CREDENTIALS', loadMqttConfig, anEnv({ CLOUD_CREDENTIALS: `{"password":"${CREDENTIALS_SECRET}"` })],
    ['CLOUD_CREDENTIALS a JSON array', 'CLOUD_CREDENTIALS', loadMqttConfig, anEnv({ CLOUD_CREDENTIALS: JSON.stringify([CREDENTIALS_SECRET]) })],
    ['CLOUD_CREDENTIALS a JSON string', 'CLOUD_CREDENTIALS', loadMqttConfig, anEnv({ CLOUD_CREDENTIALS: JSON.stringify(CREDENTIALS_SECRET) })],
    ['CLOUD_CREDENTIALS JSON null', 'CLOUD_CREDENTIALS', loadMqttConfig, anEnv({ CLOUD_CREDENTIALS: 'null' })],
    ['CLOUD_HOST without scheme', 'CLOUD_HOST', loadMqttConfig, anEnv({ CLOUD_HOST: 'broker.example.com:8883' })],
    ['CLOUD_HOST with an unknown scheme', 'CLOUD_HOST', loadMqttConfig, anEnv({ CLOUD_HOST: 'http://broker.example.com' })],
    ['CLOUD_HOST missing', 'CLOUD_HOST', loadMqttConfig, anEnv({ CLOUD_HOST: undefined })],
    ['OCPP_MYSQL_PORT abc', 'OCPP_MYSQL_PORT', loadDatabaseConfig, anEnv({ OCPP_MYSQL_PORT: 'abc' })],
    ['OCPP_MYSQL_PORT 70000', 'OCPP_MYSQL_PORT', loadDatabaseConfig, anEnv({ OCPP_MYSQL_PORT: '70000' })],
    ['OCPP_MYSQL_PORT 0', 'OCPP_MYSQL_PORT', loadDatabaseConfig, anEnv({ OCPP_MYSQL_PORT: '0' })],
    ['OCPP_MYSQL_PORT 33.06', 'OCPP_MYSQL_PORT', loadDatabaseConfig, anEnv({ OCPP_MYSQL_PORT: '33.06' })],
    ['OCPP_MYSQL_DATABASE missing', 'OCPP_MYSQL_DATABASE', loadDatabaseConfig, anEnv({ OCPP_MYSQL_DATABASE: undefined })],
    ['OCPP_MYSQL_DATABASE with a quote', 'OCPP_MYSQL_DATABASE', loadDatabaseConfig, anEnv({ OCPP_MYSQL_DATABASE: "ocpp`; DROP" })],
    ['CP_SYNC_DATABASE with a backquote', 'CP_SYNC_DATABASE', loadDatabaseConfig, anEnv({ CP_SYNC_DATABASE: 'cp`sync' })],
    ['CP_SYNC_DATABASE too long', 'CP_SYNC_DATABASE', loadDatabaseConfig, anEnv({ CP_SYNC_DATABASE: 'x'.repeat(65) })],
    ['OCPP_MYSQL_USER missing', 'OCPP_MYSQL_USER', loadDatabaseConfig, anEnv({ OCPP_MYSQL_USER: '' })],
    ['OCPP_MYSQL_LOCK_WAIT_TIMEOUT 0', 'OCPP_MYSQL_LOCK_WAIT_TIMEOUT', loadDatabaseConfig, anEnv({ OCPP_MYSQL_LOCK_WAIT_TIMEOUT: '0' })],
    ['OCPP_MYSQL_LOCK_WAIT_TIMEOUT 2s', 'OCPP_MYSQL_LOCK_WAIT_TIMEOUT', loadDatabaseConfig, anEnv({ OCPP_MYSQL_LOCK_WAIT_TIMEOUT: '2s' })],
    ['COLLECTOR_DURATION soon', 'COLLECTOR_DURATION', loadSyncDefaults, anEnv({ COLLECTOR_DURATION: 'soon' })],
    ['COLLECTORS 0', 'COLLECTORS', loadSyncDefaults, anEnv({ COLLECTORS: '0' })],
    ['COLLECTOR_DURATION 0', 'COLLECTOR_DURATION', loadSyncDefaults, anEnv({ COLLECTOR_DURATION: '0' })],
    ['APPROVAL_TIMEOUT -1h', 'APPROVAL_TIMEOUT', loadSyncDefaults, anEnv({ APPROVAL_TIMEOUT: '-1h' })],
    ['MAX_CONNECTORS 0', 'MAX_CONNECTORS', loadSyncDefaults, anEnv({ MAX_CONNECTORS: '0' })],
    ['MAX_CONNECTORS 2.5', 'MAX_CONNECTORS', loadSyncDefaults, anEnv({ MAX_CONNECTORS: '2.5' })],
    ['MAX_CONNECTORS many', 'MAX_CONNECTORS', loadSyncDefaults, anEnv({ MAX_CONNECTORS: 'many' })],
    ['MAX_CONNECTORS 1001', 'MAX_CONNECTORS', loadSyncDefaults, anEnv({ MAX_CONNECTORS: '1001' })],
    ['TEMPORAL_ADDRESS without port', 'TEMPORAL_ADDRESS', loadTemporalConfig, anEnv({ TEMPORAL_ADDRESS: 'temporal.internal' })],
    ['TEMPORAL_ADDRESS as a URL', 'TEMPORAL_ADDRESS', loadTemporalConfig, anEnv({ TEMPORAL_ADDRESS: 'http://temporal.internal:7233' })],
    ['only TEMPORAL_TLS_CERT_PATH', 'TEMPORAL_TLS_CERT_PATH', loadTemporalConfig, anEnv({ TEMPORAL_TLS_CERT_PATH: '/tls/client.pem' })],
    ['only TEMPORAL_TLS_KEY_PATH', 'TEMPORAL_TLS_CERT_PATH', loadTemporalConfig, anEnv({ TEMPORAL_TLS_KEY_PATH: '/tls/client.key' })],
    ['TEMPORAL_TLS maybe', 'TEMPORAL_TLS', loadTemporalConfig, anEnv({ TEMPORAL_TLS: 'maybe' })],
    ['TEMPORAL_UI_URL not a URL', 'TEMPORAL_UI_URL', loadTemporalConfig, anEnv({ TEMPORAL_UI_URL: 'ui.internal' })],
    ['LOG_LEVEL verbose', 'LOG_LEVEL', loadLogLevel, anEnv({ LOG_LEVEL: 'verbose' })],
    ['LOG_FORMAT logfmt', 'LOG_FORMAT', loadObservabilityConfig, anEnv({ LOG_FORMAT: 'logfmt' })],
    ['METRICS_BIND_ADDRESS without port', 'METRICS_BIND_ADDRESS', loadObservabilityConfig, anEnv({ METRICS_BIND_ADDRESS: '127.0.0.1' })],
    ['METRICS_BIND_ADDRESS a host name', 'METRICS_BIND_ADDRESS', loadObservabilityConfig, anEnv({ METRICS_BIND_ADDRESS: 'localhost:9464' })],
    ['OCPP_MYSQL_SSL required', 'OCPP_MYSQL_SSL', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'required' })],
    ['OCPP_MYSQL_SSL true', 'OCPP_MYSQL_SSL', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'true' })],
    ['verify-identity to an IPv4 address', 'OCPP_MYSQL_HOST', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'verify-identity', OCPP_MYSQL_SSL_CA_PATH: CA })],
    ['verify-identity to an IPv6 address', 'OCPP_MYSQL_HOST', loadDatabaseConfig, anEnv({ OCPP_MYSQL_HOST: '::1', OCPP_MYSQL_SSL: 'verify-identity', OCPP_MYSQL_SSL_CA_PATH: CA })],
    ['verify-ca without a CA', 'OCPP_MYSQL_SSL_CA_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'verify-ca' })],
    ['verify-identity without a CA', 'OCPP_MYSQL_SSL_CA_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_HOST: 'db.example.com', OCPP_MYSQL_SSL: 'verify-identity' })],
    ['a CA with OCPP_MYSQL_SSL=on', 'OCPP_MYSQL_SSL_CA_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'on', OCPP_MYSQL_SSL_CA_PATH: CA })],
    ['a CA with TLS off', 'OCPP_MYSQL_SSL_CA_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL_CA_PATH: CA })],
    ['a client certificate with TLS off', 'OCPP_MYSQL_SSL_CERT_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'off', OCPP_MYSQL_SSL_CERT_PATH: CERT, OCPP_MYSQL_SSL_KEY_PATH: KEY })],
    ['a database certificate without its key', 'OCPP_MYSQL_SSL_CERT_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'on', OCPP_MYSQL_SSL_CERT_PATH: CERT })],
    ['a database key without its certificate', 'OCPP_MYSQL_SSL_CERT_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'on', OCPP_MYSQL_SSL_KEY_PATH: KEY })],
    ['a missing database CA file', 'OCPP_MYSQL_SSL_CA_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'verify-ca', OCPP_MYSQL_SSL_CA_PATH: MISSING })],
    ['a database CA that is a directory', 'OCPP_MYSQL_SSL_CA_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'verify-ca', OCPP_MYSQL_SSL_CA_PATH: pemDir })],
    ['a database CA that is not PEM', 'OCPP_MYSQL_SSL_CA_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'verify-ca', OCPP_MYSQL_SSL_CA_PATH: NOT_PEM })],
    ['a database key that is a certificate', 'OCPP_MYSQL_SSL_KEY_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'on', OCPP_MYSQL_SSL_CERT_PATH: CERT, OCPP_MYSQL_SSL_KEY_PATH: CERT })],
    ['a database certificate that is a key', 'OCPP_MYSQL_SSL_CERT_PATH', loadDatabaseConfig, anEnv({ OCPP_MYSQL_SSL: 'on', OCPP_MYSQL_SSL_CERT_PATH: KEY, OCPP_MYSQL_SSL_KEY_PATH: KEY })],
    ['a missing MQTT CA file', 'CLOUD_TLS_CA_PATH', loadMqttConfig, anEnv({ CLOUD_TLS_CA_PATH: MISSING })],
    ['an MQTT CA that is not PEM', 'CLOUD_TLS_CA_PATH', loadMqttConfig, anEnv({ CLOUD_TLS_CA_PATH: NOT_PEM })],
    ['an MQTT certificate without its key', 'CLOUD_TLS_CERT_PATH', loadMqttConfig, anEnv({ CLOUD_TLS_CERT_PATH: CERT })],
    ['an MQTT key without its certificate', 'CLOUD_TLS_CERT_PATH', loadMqttConfig, anEnv({ CLOUD_TLS_KEY_PATH: KEY })],
    ['a missing MQTT key file', 'CLOUD_TLS_KEY_PATH', loadMqttConfig, anEnv({ CLOUD_TLS_CERT_PATH: CERT, CLOUD_TLS_KEY_PATH: MISSING })],
    ['an MQTT key that is not PEM', 'CLOUD_TLS_KEY_PATH', loadMqttConfig, anEnv({ CLOUD_TLS_CERT_PATH: CERT, CLOUD_TLS_KEY_PATH: NOT_PEM })],
    ['MQTT TLS files with a plain mqtt:// URL', 'CLOUD_TLS_CA_PATH', loadMqttConfig, anEnv({ CLOUD_HOST: 'mqtt://broker:1883', CLOUD_TLS_CA_PATH: CA })],
    ['a CA file and "ca" in CLOUD_CREDENTIALS', 'CLOUD_TLS_CA_PATH', loadMqttConfig, anEnv({ CLOUD_CREDENTIALS: JSON.stringify({ ca: 'inline' }), CLOUD_TLS_CA_PATH: CA })],
    [
      'TLS files with "rejectUnauthorized": false',
      'CLOUD_TLS_CA_PATH',
      loadMqttConfig,
      anEnv({ CLOUD_CREDENTIALS: JSON.stringify({ password: CREDENTIALS_SECRET, rejectUnauthorized: false }), CLOUD_TLS_CA_PATH: CA }),
    ],
  ];

  it.each(cases)('%s: a ConfigError that starts with the variable name', (_case, name, load, env) => {
    expect(configError(() => load(env)).message.startsWith(`${name}`)).toBe(true);
  });

  it.each(cases)('%s: the message shows neither secret', (_case, _name, load, env) => {
    const { message } = configError(() => load(env));
    expect(message).not.toContain(CREDENTIALS_SECRET);
    expect(message).not.toContain(DB_SECRET);
    expect(message).not.toContain(KEY_SECRET);
  });

  it.each([
    ['a missing file', { CLOUD_TLS_CA_PATH: MISSING }, `CLOUD_TLS_CA_PATH: expected a readable certificate file, cannot read ${JSON.stringify(MISSING)} (no such file)`],
    ['a file that is not PEM', { CLOUD_TLS_CA_PATH: NOT_PEM }, `CLOUD_TLS_CA_PATH: expected a PEM certificate file (-----BEGIN CERTIFICATE-----), which ${JSON.stringify(NOT_PEM)} is not`],
    ['a certificate without its key', { CLOUD_TLS_CERT_PATH: CERT }, 'CLOUD_TLS_CERT_PATH and CLOUD_TLS_KEY_PATH: expected both or neither (a client certificate needs its key)'],
  ])('names the TLS variable, the path and what was expected: %s', (_case, env, expected) => {
    expect(configError(() => loadMqttConfig(anEnv(env))).message).toBe(expected);
  });

  it('names the mode that needs a CA', () => {
    expect(configError(() => loadDatabaseConfig(anEnv({ OCPP_MYSQL_HOST: 'db.example.com', OCPP_MYSQL_SSL: 'verify-identity' }))).message).toBe(
      "OCPP_MYSQL_SSL_CA_PATH: required with OCPP_MYSQL_SSL=verify-identity, expected the CA certificate file that signed the server's certificate",
    );
    expect(configError(() => loadDatabaseConfig(anEnv({ OCPP_MYSQL_SSL: 'required' }))).message).toBe(
      'OCPP_MYSQL_SSL: expected one of off, on, verify-ca, verify-identity (got "required")',
    );
  });

  it('names the variable and what was expected after it', () => {
    expect(configError(() => loadDatabaseConfig(anEnv({ OCPP_MYSQL_PORT: '70000' }))).message).toBe(
      'OCPP_MYSQL_PORT: expected a port number from 1 to 65535 (got "70000")',
    );
  });

  it('does not echo a CLOUD_CREDENTIALS text that is not JSON', () => {
    // JSON.parse's own message may quote the text; the loader must not pass it on.
    const text = `{"username":"sync","password":"${CREDENTIALS_SECRET}",}`;
    const { message } = configError(() => loadMqttConfig(anEnv({ CLOUD_CREDENTIALS: text })));
    expect(message).toMatch(/^CLOUD_CREDENTIALS: .*not valid JSON/);
    expect(message).not.toContain('sync');
  });
});

describe('loadNotifyWebhookUrl', () => {
  const SECRET_URL = 'https://hooks.slack.com/services/T000/B000/xoxb-s3cr3t-token';

  it('is optional', () => {
    expect(loadNotifyWebhookUrl({})).toBeUndefined();
    expect(loadNotifyWebhookUrl({ NOTIFY_WEBHOOK_URL: '  ' })).toBeUndefined();
  });

  it('takes an http(s) URL as it is', () => {
    expect(loadNotifyWebhookUrl({ NOTIFY_WEBHOOK_URL: SECRET_URL })).toBe(SECRET_URL);
  });

  it.each(['hooks.slack.com/services/xoxb-s3cr3t-token', 'ftp://example.com/xoxb-s3cr3t-token'])('refuses %s, naming the variable and never echoing the value', (url) => {
    let message = '';
    try {
      loadNotifyWebhookUrl({ NOTIFY_WEBHOOK_URL: url });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/^NOTIFY_WEBHOOK_URL: expected an http:\/\/ or https:\/\/ URL/);
    expect(message).not.toContain('s3cr3t');
  });
});
