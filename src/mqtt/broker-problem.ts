/**
 * A failed connection to the MQTT broker in the operator's words, naming the setting to check: `CLOUD_HOST
 * 127.0.0.1:1999: connection refused (ECONNREFUSED)`, `CLOUD_CREDENTIALS: not authorized`, a TLS problem naming
 * CLOUD_TLS_*. Shared by the collector (its heartbeat and its failure) and the worker's probe at start.
 */
import { socketProblem } from '../domain/connection-error';
import { redactUserInfo } from '../domain/redact';
import { explainTlsFailure, tlsDetail, tlsFailureOf, type TlsFailureKind } from '../domain/tls';
import type { BrokerConnectionProblem } from '../shared';

/**
 * CONNACK refusals that may pass: 3 server unavailable (MQTT 3.1.1); MQTT 5's 136 server unavailable, 137 server
 * busy, 151 quota exceeded, 159 connection rate exceeded.
 */
const TRANSIENT_REFUSAL_CODES = new Set([3, 136, 137, 151, 159]);
/** CONNACK refusals that mean "this broker does not speak the protocol version asked for". */
const UNSUPPORTED_PROTOCOL_CODES = new Set([1, 132]);

const TLS_SETTING: Record<TlsFailureKind, string> = {
  untrusted: 'CLOUD_TLS_CA_PATH',
  expired: 'CLOUD_HOST',
  hostname: 'CLOUD_HOST',
  'client-certificate': 'CLOUD_TLS_CERT_PATH/CLOUD_TLS_KEY_PATH',
  handshake: 'CLOUD_TLS_CA_PATH/CLOUD_TLS_CERT_PATH/CLOUD_TLS_KEY_PATH',
};

/** The packet parser's words for bytes that are not MQTT, e.g. an HTTP server's answer on CLOUD_HOST's port. */
const NOT_MQTT = /^(Invalid |Malformed |Cannot parse |Packet too short|Not supported)/;

/** `host:port` of the broker's URL, without credentials or path. */
export function brokerAddress(url: string): string {
  return redactUserInfo(url).replace(/^[a-z]+:\/\/(\*\*\*@)?/i, '').replace(/\/.*$/, '');
}

/** mqtt.js's words for a CONNACK refusal, without its prefix: `Connection refused: Not authorized` → `not authorized`. */
function refusalWords(message: string): string {
  const words = message.replace(/^Connection refused:\s*/i, '').trim();
  return words.charAt(0).toLowerCase() + words.slice(1);
}

export function brokerConnectionProblem(err: Error & { code?: unknown }, url: string, connectOptions: Record<string, unknown>): BrokerConnectionProblem {
  const at = new Date().toISOString();
  if (typeof err.code === 'number') {
    const words = refusalWords(err.message);
    if (TRANSIENT_REFUSAL_CODES.has(err.code)) return { setting: 'CLOUD_HOST', message: `CLOUD_HOST ${brokerAddress(url)}: the broker refused for now: ${words}`, at, retryable: true };
    const hint = UNSUPPORTED_PROTOCOL_CODES.has(err.code) ? ' (for an MQTT 3.1.1 broker, add "protocolVersion": 4 to CLOUD_CREDENTIALS)' : '';
    return { setting: 'CLOUD_CREDENTIALS', message: `CLOUD_CREDENTIALS: ${words}${hint} (the MQTT broker refused the connection)`, at, retryable: false };
  }
  const tls = tlsFailureOf(err);
  if (tls !== undefined) {
    const message = explainTlsFailure(tls, tlsDetail(err), {
      peer: 'the MQTT broker',
      caVariable: 'CLOUD_TLS_CA_PATH',
      certVariable: 'CLOUD_TLS_CERT_PATH',
      keyVariable: 'CLOUD_TLS_KEY_PATH',
      hostVariable: 'CLOUD_HOST',
      hasClientCertificate: connectOptions.cert !== undefined,
    });
    return { setting: TLS_SETTING[tls], message, at, retryable: false, tls: true };
  }
  if (err.code === undefined && (NOT_MQTT.test(err.message) || err.message === 'connack timeout')) {
    const answer = err.message === 'connack timeout' ? 'the server accepted the connection but gave no MQTT answer' : "the server's answer is not MQTT";
    const message = `CLOUD_HOST ${brokerAddress(url)}: ${answer} (${err.message}): is it the broker's MQTT port? (a WebSocket endpoint takes ws:// or wss://)`;
    return { setting: 'CLOUD_HOST', message, at, retryable: true };
  }
  const problem = socketProblem(err.code);
  const words = problem !== undefined ? `${problem.words} (${problem.code})` : err.message;
  return { setting: 'CLOUD_HOST', message: `CLOUD_HOST ${brokerAddress(url)}: ${words}`, at, retryable: true };
}
