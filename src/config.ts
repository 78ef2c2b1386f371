/**
 * The one place where the environment (and `.env`) is read and validated. Each section is parsed on its own,
 * so that a CLI command that only talks to Temporal does not demand database settings.
 * A bad value stops with one line naming the variable and what was expected.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import dotenv from 'dotenv';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE, MAX_COLLECTORS, type SyncInput } from './shared';
import { parseDuration } from './domain/duration';
import { redactUserInfo } from './domain/redact';
import { DEFAULT_MAX_SILENT_STATIONS } from './domain/silence';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Loads `.env` from the working directory into process.env, without overriding what is already set. */
export function loadDotEnv(path?: string): void {
  dotenv.config({ path, quiet: true });
}

/** Treats an empty string like an absent variable, as the original tool did for TEST_DEVICE_ID. */
function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function parse<T>(env: Env, name: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>, fallback?: string): T {
  const raw = value(env, name) ?? fallback;
  const result = schema.safeParse(raw);
  if (!result.success) {
    const shown = name.includes('PASSWORD') || name.includes('CREDENTIALS') || name.includes('API_KEY') ? '(hidden)' : JSON.stringify(redactUserInfo(raw ?? ''));
    throw new ConfigError(`${name}: ${result.error.issues[0]?.message ?? 'invalid value'} (got ${raw === undefined ? 'nothing' : shown})`);
  }
  return result.data;
}

const required = (what: string) => z.string({ required_error: `required, expected ${what}`, invalid_type_error: `expected ${what}` });
const optionalString = z.string().optional();
/** Plain decimal digits only: `0x10` or `1e3` in a setting is a mistake, not a number. */
const boundedInt = (what: string, min: number, max: number) =>
  z.string({ required_error: `expected ${what}` }).transform((raw, ctx) => {
    const n = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected ${what}` });
      return z.NEVER;
    }
    return n;
  });
const port = boundedInt('a port number from 1 to 65535', 1, 65535);
const hostAndPort = z.string().refine(
  (v) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(v);
    return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
  },
  { message: 'expected host:port, e.g. 127.0.0.1:7233 or [::1]:7233' },
);
/** An IP address and port to listen on (no host name: the exporter binds without resolving). */
const bindAddress = z.string().refine(
  (v) => {
    const match = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(v);
    return match !== null && isIP(match[1] ?? match[2] ?? '') !== 0 && Number(match[3]) >= 1 && Number(match[3]) <= 65535;
  },
  { message: 'expected an IP address and port to listen on, e.g. 127.0.0.1:9464, 0.0.0.0:9464 or [::]:9464' },
);
const duration = (what: string) =>
  z.string().transform((raw, ctx) => {
    const ms = parseDuration(raw);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `expected ${what}, in milliseconds or with a unit (500ms, 90s, 15m, 24h)` });
      return z.NEVER;
    }
    return ms;
  });
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { errorMap: () => ({ message: 'expected true or false' }) }).transform((v) => ['true', '1', 'yes'].includes(v));

type PemKind = 'certificate' | 'private key';
const PEM_MARKERS: Record<PemKind, { marker: RegExp; shown: string }> = {
  certificate: { marker: /-----BEGIN CERTIFICATE-----/, shown: '-----BEGIN CERTIFICATE-----' },
  'private key': { marker: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/, shown: '-----BEGIN PRIVATE KEY-----' },
};
const FILE_ERRORS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a directory', ENOTDIR: 'a parent is not a directory' };

/**
 * Reads the PEM file that variable `name` points to, at start-up, so that a wrong path stops the worker before it
 * polls. Errors name the variable and the path, never what the file holds (a key is secret).
 */
function readPemFile(env: Env, name: string, kind: PemKind): Buffer | undefined {
  const path = value(env, name);
  if (path === undefined) return undefined;
  let contents: Buffer;
  try {
    contents = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`${name}: expected a readable ${kind} file, cannot read ${JSON.stringify(path)} (${FILE_ERRORS[code] ?? code})`);
  }
  if (!PEM_MARKERS[kind].marker.test(contents.toString('latin1'))) {
    throw new ConfigError(`${name}: expected a PEM ${kind} file (${PEM_MARKERS[kind].shown}), which ${JSON.stringify(path)} is not`);
  }
  return contents;
}

function bothOrNeither(env: Env, certName: string, keyName: string): void {
  if ((value(env, certName) === undefined) !== (value(env, keyName) === undefined)) {
    throw new ConfigError(`${certName} and ${keyName}: expected both or neither (a client certificate needs its key)`);
  }
}

export interface MqttConfig {
  url: string;
  /**
   * Parsed CLOUD_CREDENTIALS: mqtt.js connect options (username, password, clientId, …), plus `ca`/`cert`/`key`
   * read from CLOUD_TLS_*_PATH. Secret.
   */
  options: Record<string, unknown>;
}

const TLS_FILES = [
  { name: 'CLOUD_TLS_CA_PATH', option: 'ca', kind: 'certificate' },
  { name: 'CLOUD_TLS_CERT_PATH', option: 'cert', kind: 'certificate' },
  { name: 'CLOUD_TLS_KEY_PATH', option: 'key', kind: 'private key' },
] as const;

export function loadMqttConfig(env: Env): MqttConfig {
  const url = parse(
    env,
    'CLOUD_HOST',
    required('the broker URL, e.g. mqtts://broker.example.com:8883').refine((v) => /^(mqtts?|wss?|tcp|ssl):\/\/\S+$/.test(v), {
      message: 'expected the broker URL with a scheme mqtt://, mqtts://, ws://, wss://, tcp:// or ssl://',
    }),
  );
  const credentials = value(env, 'CLOUD_CREDENTIALS');
  let options: Record<string, unknown> = {};
  if (credentials !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(credentials);
    } catch {
      // The text itself is secret: name the variable, never echo it.
      throw new ConfigError('CLOUD_CREDENTIALS: expected a JSON object of MQTT connect options, e.g. {"username":"…","password":"…"} (the value is not valid JSON)');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError('CLOUD_CREDENTIALS: expected a JSON object of MQTT connect options, e.g. {"username":"…","password":"…"}');
    }
    options = parsed as Record<string, unknown>;
  }
  return { url, options: { ...options, ...loadMqttTls(env, url, options) } };
}

/** CLOUD_TLS_CA_PATH, CLOUD_TLS_CERT_PATH, CLOUD_TLS_KEY_PATH: the files' contents as mqtt.js options, verifying the broker. */
function loadMqttTls(env: Env, url: string, credentials: Record<string, unknown>): Record<string, unknown> {
  const given = TLS_FILES.filter(({ name }) => value(env, name) !== undefined);
  if (given.length === 0) return {};
  const first = given[0]!.name;
  if (!/^(mqtts|wss|ssl):\/\//.test(url)) {
    throw new ConfigError(`${first}: set, but CLOUD_HOST is not a TLS URL (expected mqtts:// or wss://, got ${url.replace(/:\/\/.*/, '://…')})`);
  }
  bothOrNeither(env, 'CLOUD_TLS_CERT_PATH', 'CLOUD_TLS_KEY_PATH');
  for (const { name, option } of given) {
    if (credentials[option] !== undefined) {
      throw new ConfigError(`${name}: expected either this file or "${option}" in CLOUD_CREDENTIALS, not both`);
    }
  }
  if (credentials.rejectUnauthorized === false) {
    throw new ConfigError(`${first}: expected the broker's certificate to be verified, but CLOUD_CREDENTIALS has "rejectUnauthorized": false`);
  }
  const tls: Record<string, unknown> = { rejectUnauthorized: true };
  for (const { name, option, kind } of given) tls[option] = readPemFile(env, name, kind);
  return tls;
}

/** OCPP_MYSQL_SSL, in the spirit of MySQL's `--ssl-mode` (DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY). */
export const MYSQL_SSL_MODES = ['off', 'on', 'verify-ca', 'verify-identity'] as const;
export type MysqlSslMode = (typeof MYSQL_SSL_MODES)[number];

/** TLS to the database: the mode and the files' contents (read at start-up), with their paths for messages. */
export interface DatabaseTls {
  mode: Exclude<MysqlSslMode, 'off'>;
  caPath?: string;
  ca?: Buffer;
  certPath?: string;
  cert?: Buffer;
  keyPath?: string;
  /** Secret. */
  key?: Buffer;
}

export interface DatabaseConfig {
  host: string;
  port: number;
  /** The ocpp-db database (OCPP_MYSQL_DATABASE): charging_stations and charging_points. */
  database: string;
  /** The database of the tool's own tables (CP_SYNC_DATABASE), on the same server; may equal `database`. */
  toolDatabase: string;
  user: string;
  /** Secret. */
  password: string;
  /** Absent: no TLS (OCPP_MYSQL_SSL=off). */
  tls?: DatabaseTls;
  /** innodb_lock_wait_timeout of the worker's sessions, in seconds; the server's default when absent. */
  lockWaitTimeoutSeconds?: number;
}

function loadDatabaseTls(env: Env, host: string): DatabaseTls | undefined {
  const mode = parse(
    env,
    'OCPP_MYSQL_SSL',
    z.enum(MYSQL_SSL_MODES, { errorMap: () => ({ message: `expected one of ${MYSQL_SSL_MODES.join(', ')}` }) }),
    'off',
  );
  const paths = ['OCPP_MYSQL_SSL_CA_PATH', 'OCPP_MYSQL_SSL_CERT_PATH', 'OCPP_MYSQL_SSL_KEY_PATH'].filter((name) => value(env, name) !== undefined);
  if (mode === 'off') {
    if (paths.length > 0) throw new ConfigError(`${paths[0]}: set, but OCPP_MYSQL_SSL is off (expected on, verify-ca or verify-identity)`);
    return undefined;
  }
  const caPath = value(env, 'OCPP_MYSQL_SSL_CA_PATH');
  if (mode === 'on' && caPath !== undefined) {
    throw new ConfigError('OCPP_MYSQL_SSL_CA_PATH: set, but OCPP_MYSQL_SSL=on does not verify the server (expected verify-ca or verify-identity to use the CA)');
  }
  if (mode !== 'on' && caPath === undefined) {
    throw new ConfigError(`OCPP_MYSQL_SSL_CA_PATH: required with OCPP_MYSQL_SSL=${mode}, expected the CA certificate file that signed the server's certificate`);
  }
  // mysql2 checks an IP address host against the name "localhost", not against the certificate's IP entries.
  if (mode === 'verify-identity' && isIP(host) !== 0) {
    throw new ConfigError(
      `OCPP_MYSQL_HOST: an IP address cannot be checked against the server's certificate with OCPP_MYSQL_SSL=verify-identity (expected a host name that the certificate carries, or OCPP_MYSQL_SSL=verify-ca; got ${JSON.stringify(host)})`,
    );
  }
  bothOrNeither(env, 'OCPP_MYSQL_SSL_CERT_PATH', 'OCPP_MYSQL_SSL_KEY_PATH');
  const tls: DatabaseTls = { mode };
  if (caPath !== undefined) Object.assign(tls, { caPath, ca: readPemFile(env, 'OCPP_MYSQL_SSL_CA_PATH', 'certificate') });
  const certPath = value(env, 'OCPP_MYSQL_SSL_CERT_PATH');
  if (certPath !== undefined) {
    Object.assign(tls, {
      certPath,
      cert: readPemFile(env, 'OCPP_MYSQL_SSL_CERT_PATH', 'certificate'),
      keyPath: value(env, 'OCPP_MYSQL_SSL_KEY_PATH'),
      key: readPemFile(env, 'OCPP_MYSQL_SSL_KEY_PATH', 'private key'),
    });
  }
  return tls;
}

const databaseName = (variable: string) =>
  required('the database name').regex(/^[A-Za-z0-9_$-]{1,64}$/, `expected a database name of letters, digits, _, $ or - (at most 64)${variable === 'CP_SYNC_DATABASE' ? ', default cp_sync' : ''}`);

export function loadDatabaseConfig(env: Env): DatabaseConfig {
  const host = parse(env, 'OCPP_MYSQL_HOST', z.string(), '127.0.0.1');
  return {
    host,
    port: parse(env, 'OCPP_MYSQL_PORT', port, '3306'),
    database: parse(env, 'OCPP_MYSQL_DATABASE', databaseName('OCPP_MYSQL_DATABASE')),
    toolDatabase: parse(env, 'CP_SYNC_DATABASE', databaseName('CP_SYNC_DATABASE'), 'cp_sync'),
    user: parse(env, 'OCPP_MYSQL_USER', required('the database user')),
    password: value(env, 'OCPP_MYSQL_PASSWORD') ?? '',
    tls: loadDatabaseTls(env, host),
    lockWaitTimeoutSeconds:
      value(env, 'OCPP_MYSQL_LOCK_WAIT_TIMEOUT') === undefined ? undefined : parse(env, 'OCPP_MYSQL_LOCK_WAIT_TIMEOUT', boundedInt('whole seconds from 1 to 3600', 1, 3600)),
  };
}

export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Base URL of the Temporal Web UI, for links to a run. */
  uiUrl: string;
  /** Secret. */
  apiKey?: string;
  tls?: { serverRootCACertificatePath?: string; clientCertPath?: string; clientKeyPath?: string; serverNameOverride?: string };
}

export function loadTemporalConfig(env: Env): TemporalConfig {
  const apiKey = value(env, 'TEMPORAL_API_KEY');
  const clientCertPath = value(env, 'TEMPORAL_TLS_CERT_PATH');
  const clientKeyPath = value(env, 'TEMPORAL_TLS_KEY_PATH');
  if ((clientCertPath === undefined) !== (clientKeyPath === undefined)) {
    throw new ConfigError('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH: expected both or neither (mTLS needs the certificate and its key)');
  }
  const tlsWanted = parse(env, 'TEMPORAL_TLS', bool, apiKey !== undefined || clientCertPath !== undefined ? 'true' : 'false');
  return {
    address: parse(env, 'TEMPORAL_ADDRESS', hostAndPort, '127.0.0.1:7233'),
    namespace: parse(env, 'TEMPORAL_NAMESPACE', z.string(), 'default'),
    taskQueue: parse(env, 'TEMPORAL_TASK_QUEUE', z.string(), DEFAULT_TASK_QUEUE),
    uiUrl: parse(env, 'TEMPORAL_UI_URL', z.string().url('expected the Web UI URL, e.g. http://127.0.0.1:8233'), 'http://127.0.0.1:8233').replace(/\/+$/, ''),
    apiKey,
    tls: tlsWanted
      ? {
          serverRootCACertificatePath: value(env, 'TEMPORAL_TLS_CA_PATH'),
          clientCertPath,
          clientKeyPath,
          serverNameOverride: value(env, 'TEMPORAL_TLS_SERVER_NAME'),
        }
      : undefined,
  };
}

/**
 * NOTIFY_WEBHOOK_URL, read by the worker only: the URL may embed a token, so it never enters workflow input or
 * history, and a bad value is described without being echoed.
 */
export function loadNotifyWebhookUrl(env: Env): string | undefined {
  const url = value(env, 'NOTIFY_WEBHOOK_URL');
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !['http:', 'https:'].includes(parsed.protocol)) {
    throw new ConfigError('NOTIFY_WEBHOOK_URL: expected an http:// or https:// URL, e.g. a Slack or Mattermost incoming webhook (the value is not shown: it may carry a token)');
  }
  return url;
}

/**
 * Defaults for a new sync, read where the sync is started (the CLI): the SyncInput fields the environment sets,
 * `collectors` always given (1: one collector, with a plain subscription).
 */
export type SyncDefaults = Pick<SyncInput, 'collectorDurationMs' | 'approvalTimeoutMs' | 'maxConnectors' | 'testDeviceId'> & Required<Pick<SyncInput, 'collectors' | 'maxSilentStations'>>;

export function loadSyncDefaults(env: Env): SyncDefaults {
  return {
    collectorDurationMs: parse(env, 'COLLECTOR_DURATION', duration('a positive duration'), '60000'),
    approvalTimeoutMs: parse(env, 'APPROVAL_TIMEOUT', duration('a positive duration'), '24h'),
    maxConnectors: parse(env, 'MAX_CONNECTORS', boundedInt('a whole number of connectors from 1 to 1000', 1, 1000), '16'),
    testDeviceId: parse(env, 'TEST_DEVICE_ID', optionalString),
    collectors: parse(env, 'COLLECTORS', boundedInt(`a whole number of collectors from 1 to ${MAX_COLLECTORS}`, 1, MAX_COLLECTORS), '1'),
    maxSilentStations: parse(env, 'MAX_SILENT_STATIONS', boundedInt('a percentage of live stations from 0 to 100', 0, 100), String(DEFAULT_MAX_SILENT_STATIONS)),
  };
}

export type LogLevel = 'info' | 'debug';
export type LogFormat = 'text' | 'json';

export function loadLogLevel(env: Env): LogLevel {
  return parse(env, 'LOG_LEVEL', z.enum(['info', 'debug'], { errorMap: () => ({ message: 'expected info or debug' }) }), 'info');
}

export function loadLogFormat(env: Env): LogFormat {
  return parse(env, 'LOG_FORMAT', z.enum(['text', 'json'], { errorMap: () => ({ message: 'expected text or json' }) }), 'text');
}

export interface ObservabilityConfig {
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** METRICS_BIND_ADDRESS: where the worker serves Prometheus metrics (`/metrics`); absent: no endpoint. */
  metricsBindAddress?: string;
}

export function loadObservabilityConfig(env: Env): ObservabilityConfig {
  return {
    logLevel: loadLogLevel(env),
    logFormat: loadLogFormat(env),
    metricsBindAddress: value(env, 'METRICS_BIND_ADDRESS') === undefined ? undefined : parse(env, 'METRICS_BIND_ADDRESS', bindAddress),
  };
}

/** The secret values of the worker's configuration, which its log must never show (see log.ts redactor). */
export function secretValues(parts: { mqtt?: MqttConfig; database?: DatabaseConfig; temporal?: TemporalConfig }): string[] {
  const { mqtt, database, temporal } = parts;
  const fromCredentials = ['password', 'username', 'key', 'passphrase'].map((k) => mqtt?.options[k]).filter((v): v is string => typeof v === 'string');
  const userInfo = mqtt ? /^[a-z]+:\/\/([^@/]+)@/i.exec(mqtt.url)?.[1] : undefined;
  return [...fromCredentials, ...(userInfo !== undefined ? [userInfo, ...userInfo.split(':')] : []), database?.password ?? '', temporal?.apiKey ?? ''].filter((v) => v !== '');
}
