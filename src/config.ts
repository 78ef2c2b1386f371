/**
 * The one place where the environment (and `.env`) is read and validated. Each section is parsed on its own,
 * so that a CLI command that only talks to Temporal does not demand database settings.
 * A bad value stops with one line naming the variable and what was expected.
 */
import dotenv from 'dotenv';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from './shared';
import { parseDuration } from './domain/duration';
import { redactUserInfo } from './domain/redact';

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

export interface MqttConfig {
  url: string;
  /** Parsed CLOUD_CREDENTIALS: mqtt.js connect options (username, password, clientId, …). Secret. */
  options: Record<string, unknown>;
}

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
  return { url, options };
}

export interface DatabaseConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Secret. */
  password: string;
  /** innodb_lock_wait_timeout of the worker's sessions, in seconds; the server's default when absent. */
  lockWaitTimeoutSeconds?: number;
}

export function loadDatabaseConfig(env: Env): DatabaseConfig {
  return {
    host: parse(env, 'OCPP_MYSQL_HOST', z.string(), '127.0.0.1'),
    port: parse(env, 'OCPP_MYSQL_PORT', port, '3306'),
    database: parse(
      env,
      'OCPP_MYSQL_DATABASE',
      required('the database name').regex(/^[A-Za-z0-9_$-]{1,64}$/, 'expected a database name of letters, digits, _, $ or - (at most 64)'),
    ),
    user: parse(env, 'OCPP_MYSQL_USER', required('the database user')),
    password: value(env, 'OCPP_MYSQL_PASSWORD') ?? '',
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

/** Defaults for a new sync, read where the sync is started (the CLI). */
export interface SyncDefaults {
  collectorDurationMs: number;
  approvalTimeoutMs: number;
  maxConnectors: number;
  testDeviceId?: string;
}

export function loadSyncDefaults(env: Env): SyncDefaults {
  return {
    collectorDurationMs: parse(env, 'COLLECTOR_DURATION', duration('a positive duration'), '60000'),
    approvalTimeoutMs: parse(env, 'APPROVAL_TIMEOUT', duration('a positive duration'), '24h'),
    maxConnectors: parse(env, 'MAX_CONNECTORS', boundedInt('a whole number of connectors from 1 to 1000', 1, 1000), '16'),
    testDeviceId: parse(env, 'TEST_DEVICE_ID', optionalString),
  };
}

export type LogLevel = 'info' | 'debug';

export function loadLogLevel(env: Env): LogLevel {
  return parse(env, 'LOG_LEVEL', z.enum(['info', 'debug'], { errorMap: () => ({ message: 'expected info or debug' }) }), 'info');
}
