/** Connection options for a local dev server, a self-hosted cluster (mTLS) or Temporal Cloud (API key). */
import { readFileSync } from 'node:fs';
import { Connection as ClientConnection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { TemporalConfig } from '../config';
import { ConfigError } from '../config';

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

export async function connectClient(config: TemporalConfig): Promise<Client> {
  const connection = await ClientConnection.connect({
    address: config.address,
    tls: tlsOptions(config),
    apiKey: config.apiKey,
    connectTimeout: '10s',
  });
  return new Client({ connection, namespace: config.namespace });
}

export async function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect({ address: config.address, tls: tlsOptions(config), apiKey: config.apiKey });
}
