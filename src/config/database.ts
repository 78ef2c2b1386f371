/** The database server: OCPP_MYSQL_*, CP_SYNC_DATABASE and TLS to the server (OCPP_MYSQL_SSL*). */
import { isIP } from 'node:net';
import { z } from 'zod';
import { bothOrNeither, boundedInt, ConfigError, parse, port, readPemFile, required, value, type Env } from './variables';

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
