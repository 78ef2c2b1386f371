/** The Temporal server: TEMPORAL_ADDRESS, namespace, task queue, the Web UI's address, TLS and API key. */
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../shared';
import { bool, ConfigError, hostAndPort, parse, value, type Env } from './variables';

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
