import { ConnectionSettingError } from '../../src/domain/connection-error';
import { databaseConnectionError, databaseStartError } from '../../src/db/errors';
import { brokerAddress, brokerConnectionProblem } from '../../src/mqtt/broker-problem';
import { temporalConnectionError } from '../../src/temporal/connection';
import { splitAddress } from '../../src/temporal/probe';

const sqlError = (code: string, errno: number, message: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { code, errno, ...extra });

describe('databaseConnectionError: the setting a MySQL connection error points at', () => {
  test.each([
    ['refused', sqlError('ECONNREFUSED', -111, 'connect ECONNREFUSED 127.0.0.1:3399', { address: '127.0.0.1', port: 3399 }), 'OCPP_MYSQL_HOST/OCPP_MYSQL_PORT', /^MySQL 127\.0\.0\.1:3399 \(OCPP_MYSQL_HOST\/OCPP_MYSQL_PORT\): connection refused \(ECONNREFUSED\)/],
    ['no such host', sqlError('ENOTFOUND', -3008, 'getaddrinfo ENOTFOUND db.invalid', { hostname: 'db.invalid' }), 'OCPP_MYSQL_HOST', /^MySQL db\.invalid \(OCPP_MYSQL_HOST\): host name not found \(ENOTFOUND\)/],
    ['timeout', sqlError('ETIMEDOUT', -110, 'connect ETIMEDOUT'), 'OCPP_MYSQL_HOST/OCPP_MYSQL_PORT', /^MySQL \(OCPP_MYSQL_HOST\/OCPP_MYSQL_PORT\): no answer \(ETIMEDOUT\)/],
    ['wrong password (1045)', sqlError('ER_ACCESS_DENIED_ERROR', 1045, "Access denied for user 'u'@'h' (using password: YES)"), 'OCPP_MYSQL_USER/OCPP_MYSQL_PASSWORD', /login refused: Access denied .*\(errno 1045\)$/],
    ['no password login (1698)', sqlError('ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 1698, "Access denied for user 'root'@'localhost'"), 'OCPP_MYSQL_USER/OCPP_MYSQL_PASSWORD', /\(errno 1698\)$/],
    ['unknown database', sqlError('ER_BAD_DB_ERROR', 1049, "Unknown database 'nope'"), 'OCPP_MYSQL_DATABASE', /\(OCPP_MYSQL_DATABASE\): Unknown database 'nope'/],
  ])('%s', (_, err, setting, message) => {
    const translated = databaseConnectionError(err);
    expect(translated).toBeInstanceOf(ConnectionSettingError);
    expect(translated).toMatchObject({ setting });
    expect(translated!.message).toMatch(message);
  });

  test('names the server from the settings when given, and leaves other errors alone', () => {
    expect(databaseConnectionError(sqlError('ETIMEDOUT', -110, 'connect ETIMEDOUT'), { host: 'db', port: 3306 })!.message).toMatch(/^MySQL db:3306 /);
    expect(databaseConnectionError(sqlError('ER_LOCK_DEADLOCK', 1213, 'Deadlock'))).toBeUndefined();
    expect(databaseConnectionError(new Error('a defect'))).toBeUndefined();
    const deadlock = sqlError('ER_LOCK_DEADLOCK', 1213, 'Deadlock');
    expect(databaseStartError(deadlock, { host: 'db', port: 3306 })).toBe(deadlock);
  });
});

describe('brokerConnectionProblem: the setting an MQTT connection error points at', () => {
  const url = 'mqtt://user:secret@127.0.0.1:1999';
  test('a refused connection names CLOUD_HOST and the OS error, never the credentials in the URL', () => {
    const problem = brokerConnectionProblem(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1999'), { code: 'ECONNREFUSED' }), url, {});
    expect(problem).toMatchObject({ setting: 'CLOUD_HOST', message: 'CLOUD_HOST 127.0.0.1:1999: connection refused (ECONNREFUSED)', retryable: true });
  });
  test('a CONNACK refusal names CLOUD_CREDENTIALS and is not retried; a busy broker is', () => {
    expect(brokerConnectionProblem(Object.assign(new Error('Connection refused: Not authorized'), { code: 5 }), url, {})).toMatchObject({
      setting: 'CLOUD_CREDENTIALS',
      message: expect.stringMatching(/^CLOUD_CREDENTIALS: not authorized/),
      retryable: false,
    });
    expect(brokerConnectionProblem(Object.assign(new Error('Connection refused: Server busy'), { code: 137 }), url, {})).toMatchObject({ setting: 'CLOUD_HOST', retryable: true });
  });
  test('a TLS failure names CLOUD_TLS_*', () => {
    const problem = brokerConnectionProblem(Object.assign(new Error('self-signed certificate in certificate chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }), url, {});
    expect(problem).toMatchObject({ setting: 'CLOUD_TLS_CA_PATH', retryable: false, tls: true });
  });
  test("a server whose answer is not MQTT (an HTTP port) names CLOUD_HOST and says so, not the parser's words alone", () => {
    const problem = brokerConnectionProblem(new Error('Invalid header flag bits, must be 0x0 for puback packet'), url, {});
    expect(problem).toMatchObject({
      setting: 'CLOUD_HOST',
      message: "CLOUD_HOST 127.0.0.1:1999: the server's answer is not MQTT (Invalid header flag bits, must be 0x0 for puback packet): is it the broker's MQTT port? (a WebSocket endpoint takes ws:// or wss://)",
    });
    expect(brokerConnectionProblem(new Error('connack timeout'), url, {}).message).toBe(
      "CLOUD_HOST 127.0.0.1:1999: the server accepted the connection but gave no MQTT answer (connack timeout): is it the broker's MQTT port? (a WebSocket endpoint takes ws:// or wss://)",
    );
  });
  test('brokerAddress', () => {
    expect(brokerAddress('mqtts://u:p@broker.example.com:8883/path')).toBe('broker.example.com:8883');
  });
});

describe('Temporal connection errors', () => {
  const config = { address: '127.0.0.1:7233', namespace: 'default', taskQueue: 'q', uiUrl: 'http://x' };
  test("the Rust core's wrapping is taken off", () => {
    const err = new Error('tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", 127.0.0.1:7233, Os { code: 104, kind: ConnectionReset, message: "Connection reset by peer" })))');
    const translated = temporalConnectionError(err, config);
    expect(translated).toMatchObject({ setting: 'TEMPORAL_ADDRESS' });
    expect(translated.message).toMatch(/^Temporal 127\.0\.0\.1:7233 \(TEMPORAL_ADDRESS\): no connection \(Connection reset by peer\)/);
    expect(translated.message).not.toContain('tonic');
  });
  test('refused credentials name TEMPORAL_API_KEY', () => {
    expect(temporalConnectionError(Object.assign(new Error('16 UNAUTHENTICATED: invalid API key'), { code: 16 }), { ...config, apiKey: 'k' })).toMatchObject({ setting: 'TEMPORAL_API_KEY' });
  });
  test('splitAddress', () => {
    expect(splitAddress('[::1]:7233')).toEqual({ host: '::1', port: 7233 });
    expect(splitAddress('temporal.internal:7233')).toEqual({ host: 'temporal.internal', port: 7233 });
  });
});
