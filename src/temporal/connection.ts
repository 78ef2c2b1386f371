/**
 * Connection options for a local dev server, a self-hosted cluster (mTLS) or Temporal Cloud (API key), and the one
 * line an operator reads when the connection cannot be made: the address, the setting to check and why
 * (`Temporal 127.0.0.1:7299 (TEMPORAL_ADDRESS): connection refused: is the server running?`), within 5 s.
 */
import { readFileSync } from 'node:fs';
import { Connection as ClientConnection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { TemporalConfig } from '../config';
import { ConfigError } from '../config';
import { ConnectionSettingError } from '../domain/connection-error';
import { probeTemporal } from './probe';

/** How long a connection may take in all: the probe and the SDK's own connection share it. */
export const TEMPORAL_CONNECT_TIMEOUT_MS = 4000;

function readFile(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`${variable}: cannot read ${path} (${(err as Error).message})`);
  }
}

function tlsOptions(config: TemporalConfig): TLSConfig | undefined {
  if (!config.tls) return undefined;
  const { serverRootCACertificatePath, clientCertPath, clientKeyPath, serverNameOverride } = config.tls;
  return {
    serverNameOverride,
    serverRootCACertificate: serverRootCACertificatePath ? readFile(serverRootCACertificatePath, 'TEMPORAL_TLS_CA_PATH') : undefined,
    clientCertPair:
      clientCertPath && clientKeyPath
        ? { crt: readFile(clientCertPath, 'TEMPORAL_TLS_CERT_PATH'), key: readFile(clientKeyPath, 'TEMPORAL_TLS_KEY_PATH') }
        : undefined,
  };
}

/** The SDK's words without the Rust core's wrapping (`tonic::transport::Error(…)`): its innermost message. */
function sdkWords(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const inner = /message: "([^"]+)"/.exec(text)?.[1] ?? /ConnectError\("([^"]+)"/.exec(text)?.[1];
  return (inner ?? text).split('\n')[0]!.trim();
}

/**
 * What the SDK's own connection failed with, once the probe passed: refused credentials name TEMPORAL_API_KEY or the
 * client certificate; anything else (the deadline passed, the server spoke no gRPC) names TEMPORAL_ADDRESS with the
 * TLS settings that may not fit the server.
 */
export function temporalConnectionError(err: unknown, config: TemporalConfig): ConnectionSettingError {
  if (err instanceof ConnectionSettingError) return err;
  const where = `Temporal ${config.address}`;
  const words = sdkWords(err);
  const grpcCode = (err as { code?: unknown })?.code;
  if (grpcCode === 16 || /unauthenticated|invalid api key|api key/i.test(words)) {
    const setting = config.apiKey !== undefined ? 'TEMPORAL_API_KEY' : 'TEMPORAL_TLS_CERT_PATH/TEMPORAL_TLS_KEY_PATH';
    return new ConnectionSettingError(setting, `${where} (${setting}): the server refused our credentials (${words})`);
  }
  const advice = config.tls
    ? 'do TEMPORAL_TLS_CA_PATH, TEMPORAL_TLS_CERT_PATH/TEMPORAL_TLS_KEY_PATH and TEMPORAL_API_KEY fit this server?'
    : 'is it a Temporal frontend (port 7233)? A server that requires TLS (Temporal Cloud) needs TEMPORAL_TLS=true or TEMPORAL_API_KEY';
  return new ConnectionSettingError('TEMPORAL_ADDRESS', `${where} (TEMPORAL_ADDRESS): no connection (${words}): ${advice}`);
}

export async function connectClient(config: TemporalConfig): Promise<Client> {
  const tls = tlsOptions(config);
  const started = Date.now();
  await probeTemporal(config, tls, TEMPORAL_CONNECT_TIMEOUT_MS);
  const connection = await ClientConnection.connect({
    address: config.address,
    tls,
    apiKey: config.apiKey,
    connectTimeout: Math.max(1000, TEMPORAL_CONNECT_TIMEOUT_MS - (Date.now() - started)),
  }).catch((err: unknown) => {
    throw temporalConnectionError(err, config);
  });
  return new Client({ connection, namespace: config.namespace });
}

export async function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  const tls = tlsOptions(config);
  await probeTemporal(config, tls, TEMPORAL_CONNECT_TIMEOUT_MS);
  return NativeConnection.connect({ address: config.address, tls, apiKey: config.apiKey }).catch((err: unknown) => {
    throw temporalConnectionError(err, config);
  });
}
