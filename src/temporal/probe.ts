/**
 * Before the SDK connects: one plain TCP connection to TEMPORAL_ADDRESS (and, with TLS, one handshake), so that a
 * server that is down, a name that does not resolve or a certificate that does not fit is told in an operator's words
 * at once. The SDK alone says `Failed to connect before the deadline` after its timeout, or `tonic::transport::Error`.
 */
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import type { TemporalConfig } from '../config';
import { ConnectionSettingError, socketProblem } from '../domain/connection-error';
import { explainTlsFailure, tlsDetail, tlsFailureOf, type TlsFailureKind } from '../domain/tls';

/** `host:port` (`[::1]:7233` too) as its parts. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) };
}

/** The variable a TLS failure with the Temporal server points at. */
const TLS_SETTING: Record<TlsFailureKind, string> = {
  untrusted: 'TEMPORAL_TLS_CA_PATH',
  expired: 'TEMPORAL_ADDRESS',
  hostname: 'TEMPORAL_TLS_SERVER_NAME',
  'client-certificate': 'TEMPORAL_TLS_CERT_PATH/TEMPORAL_TLS_KEY_PATH',
  handshake: 'TEMPORAL_TLS',
};

/** Opens a socket and closes it again once connected (or handshaken); rejects with Node's error, ETIMEDOUT after `timeoutMs`. */
function reach(open: () => Socket, readyEvent: 'connect' | 'secureConnect', timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = open();
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once(readyEvent, () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

/** Throws a ConnectionSettingError when TEMPORAL_ADDRESS cannot be reached (or its TLS does not fit); resolves otherwise. */
export async function probeTemporal(config: TemporalConfig, tls: TLSConfig | undefined, timeoutMs: number): Promise<void> {
  const { host, port } = splitAddress(config.address);
  const where = `Temporal ${config.address}`;
  try {
    await reach(() => connectTcp({ host, port }), 'connect', timeoutMs);
  } catch (err) {
    const problem = socketProblem((err as { code?: unknown }).code);
    const words = problem === undefined ? (err as Error).message : `${problem.words}${problem.code === 'ETIMEDOUT' ? ` within ${Math.round(timeoutMs / 1000)} s` : ''}: ${problem.hint}`;
    throw new ConnectionSettingError('TEMPORAL_ADDRESS', `${where} (TEMPORAL_ADDRESS): ${words}`);
  }
  if (tls === undefined) return;
  const buffer = (bytes: Uint8Array | undefined): Buffer | undefined => (bytes === undefined ? undefined : Buffer.from(bytes));
  const options = {
    host,
    port,
    // SNI carries names only: an address checks against the certificate's IP entries without it.
    servername: tls.serverNameOverride ?? (isIP(host) === 0 ? host : undefined),
    ca: buffer(tls.serverRootCACertificate),
    cert: buffer(tls.clientCertPair?.crt),
    key: buffer(tls.clientCertPair?.key),
    ALPNProtocols: ['h2'],
  };
  try {
    await reach(() => connectTls(options), 'secureConnect', timeoutMs);
  } catch (err) {
    // A handshake cut by the network is not a TLS disagreement: the SDK's own connection says what it meets.
    const kind = tlsFailureOf(err, true);
    if (kind === undefined) return;
    const message = explainTlsFailure(kind, tlsDetail(err), {
      peer: 'the Temporal server',
      caVariable: 'TEMPORAL_TLS_CA_PATH',
      certVariable: 'TEMPORAL_TLS_CERT_PATH',
      keyVariable: 'TEMPORAL_TLS_KEY_PATH',
      hostVariable: 'TEMPORAL_ADDRESS',
      hasClientCertificate: tls.clientCertPair !== undefined,
    });
    throw new ConnectionSettingError(TLS_SETTING[kind], `${where} (${TLS_SETTING[kind]}): ${message}`);
  }
}
