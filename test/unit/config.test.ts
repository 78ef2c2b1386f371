import {
  ConfigError,
  loadDatabaseConfig,
  loadLogLevel,
  loadMqttConfig,
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
    ).toEqual({ host: 'db.internal', port: 3307, database: 'ocpp', user: 'sync', password: DB_SECRET });
  });

  it('defaults to 127.0.0.1:3306 and an empty password', () => {
    expect(loadDatabaseConfig({ OCPP_MYSQL_DATABASE: 'ocpp', OCPP_MYSQL_USER: 'root' })).toEqual({
      host: '127.0.0.1',
      port: 3306,
      database: 'ocpp',
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
    expect(loadSyncDefaults({})).toEqual({ collectorDurationMs: 60_000, approvalTimeoutMs: 86_400_000, maxConnectors: 16, testDeviceId: undefined });
  });

  it('reads every variable', () => {
    expect(loadSyncDefaults({ COLLECTOR_DURATION: '5000', APPROVAL_TIMEOUT: '15m', MAX_CONNECTORS: '8', TEST_DEVICE_ID: '6r43-lnud' })).toEqual({
      collectorDurationMs: 5000,
      approvalTimeoutMs: 900_000,
      maxConnectors: 8,
      testDeviceId: '6r43-lnud',
    });
  });

  it('reads COLLECTOR_DURATION with a unit', () => {
    expect(loadSyncDefaults({ COLLECTOR_DURATION: '90s' }).collectorDurationMs).toBe(90_000);
  });

  it.each(['', '   '])('treats TEST_DEVICE_ID %j as normal mode, as the original did', (testDeviceId) => {
    expect(loadSyncDefaults({ TEST_DEVICE_ID: testDeviceId }).testDeviceId).toBeUndefined();
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
    ['OCPP_MYSQL_USER missing', 'OCPP_MYSQL_USER', loadDatabaseConfig, anEnv({ OCPP_MYSQL_USER: '' })],
    ['OCPP_MYSQL_LOCK_WAIT_TIMEOUT 0', 'OCPP_MYSQL_LOCK_WAIT_TIMEOUT', loadDatabaseConfig, anEnv({ OCPP_MYSQL_LOCK_WAIT_TIMEOUT: '0' })],
    ['OCPP_MYSQL_LOCK_WAIT_TIMEOUT 2s', 'OCPP_MYSQL_LOCK_WAIT_TIMEOUT', loadDatabaseConfig, anEnv({ OCPP_MYSQL_LOCK_WAIT_TIMEOUT: '2s' })],
    ['COLLECTOR_DURATION soon', 'COLLECTOR_DURATION', loadSyncDefaults, anEnv({ COLLECTOR_DURATION: 'soon' })],
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
  ];

  it.each(cases)('%s: a ConfigError that starts with the variable name', (_case, name, load, env) => {
    expect(configError(() => load(env)).message.startsWith(`${name}`)).toBe(true);
  });

  it.each(cases)('%s: the message shows neither secret', (_case, _name, load, env) => {
    const { message } = configError(() => load(env));
    expect(message).not.toContain(CREDENTIALS_SECRET);
    expect(message).not.toContain(DB_SECRET);
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
