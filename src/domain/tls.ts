/**
 * What a TLS failure means and what to fix, for the broker and the database alike. A TLS failure is a
 * configuration problem (wrong CA, missing client certificate, a plain-text port): it fails the same way on every
 * retry, so callers make it non-retryable with the message built here. Node's errors carry a code (OpenSSL's
 * verification codes, `ERR_SSL_*` for alerts); mysql2 replaces that code by HANDSHAKE_SSL_ERROR and keeps the
 * message, so the message is read as well.
 */

export type TlsFailureKind =
  /** The peer's certificate does not chain to a trusted CA (or is self-signed, revoked, not for TLS servers). */
  | 'untrusted'
  /** The certificate is valid but names another host. */
  | 'hostname'
  /** The certificate has expired or is not valid yet. */
  | 'expired'
  /** The server refused the handshake for want of an acceptable client certificate. */
  | 'client-certificate'
  /** The other side does not speak TLS on that port, or the handshake failed otherwise. */
  | 'handshake';

/** OpenSSL's certificate verification codes as Node names them (tls.TLSSocket authorizationError). */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);
const EXPIRED_CODES = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD']);
const HOSTNAME_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
/** Alerts a server sends when the client presented no certificate, or one it does not accept. */
const CLIENT_CERTIFICATE_ALERT = /alert (certificate required|handshake failure|bad certificate|unknown ca|certificate unknown|access denied|certificate expired|certificate revoked|unsupported certificate)/i;

/** The same facts read from the message alone (mysql2's HANDSHAKE_SSL_ERROR keeps only Node's message). */
const UNTRUSTED_MESSAGE = /self[- ]signed certificate|unable to (get local issuer|get issuer|verify the first) certificate|certificate signature failure|invalid CA certificate|certificate chain too long|certificate revoked|unsupported certificate purpose|certificate not trusted|certificate rejected/i;
const EXPIRED_MESSAGE = /certificate has expired|certificate is not yet valid/i;
const HOSTNAME_MESSAGE = /does not match certificate's altnames|hostname mismatch/i;
/** A handshake cut by the network (a retry may well succeed), not a TLS disagreement. */
const NETWORK_MESSAGE = /ECONNRESET|ETIMEDOUT|EPIPE|socket hang up|network socket disconnected|Connection lost/i;

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  syscall?: unknown;
}

/**
 * The kind of TLS failure `err` is, or undefined when it is not one (or is a network error during the handshake).
 * `handshakeFailed` says the caller knows the error came from the TLS handshake (mysql2's HANDSHAKE_SSL_ERROR).
 */
export function tlsFailureOf(err: unknown, handshakeFailed = false): TlsFailureKind | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const { code, message, syscall } = err as ErrorLike;
  const text = typeof message === 'string' ? message : '';
  if (typeof code === 'string') {
    if (UNTRUSTED_CODES.has(code)) return 'untrusted';
    if (EXPIRED_CODES.has(code)) return 'expired';
    if (HOSTNAME_CODES.has(code)) return 'hostname';
    if (code.startsWith('ERR_SSL_')) return CLIENT_CERTIFICATE_ALERT.test(code.replace(/_/g, ' ')) || CLIENT_CERTIFICATE_ALERT.test(text) ? 'client-certificate' : 'handshake';
  }
  if (!handshakeFailed) return undefined;
  if (typeof syscall === 'string' || NETWORK_MESSAGE.test(text)) return undefined;
  if (EXPIRED_MESSAGE.test(text)) return 'expired';
  if (HOSTNAME_MESSAGE.test(text)) return 'hostname';
  if (UNTRUSTED_MESSAGE.test(text)) return 'untrusted';
  if (CLIENT_CERTIFICATE_ALERT.test(text)) return 'client-certificate';
  return 'handshake';
}

/** Node's words for the failure, short: `SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain`. */
export function tlsDetail(err: unknown): string {
  if (err === null || typeof err !== 'object') return String(err);
  const { code, message, reason } = err as ErrorLike & { reason?: unknown };
  const words = typeof reason === 'string' && reason !== '' ? reason : (typeof message === 'string' ? message : '').trim().split('\n')[0] ?? '';
  return typeof code === 'string' ? `${code}: ${words}` : words;
}

/** The settings of one side (broker or database) that a message names. */
export interface TlsSettings {
  /** Who we talk to, e.g. `the MQTT broker`. */
  peer: string;
  /** The variable that names the CA file. */
  caVariable: string;
  /** The variables that name the client certificate and key files. */
  certVariable: string;
  keyVariable: string;
  /** The variable with the host name the certificate must carry. */
  hostVariable: string;
  /** Whether a client certificate was configured (changes the advice for a refused handshake). */
  hasClientCertificate: boolean;
}

/** One sentence: what failed (with Node's own words, never a file's contents) and what to set. */
export function explainTlsFailure(kind: TlsFailureKind, reason: string, settings: TlsSettings): string {
  const { peer, caVariable, certVariable, keyVariable, hostVariable } = settings;
  switch (kind) {
    case 'untrusted':
      return `TLS: ${peer}'s certificate is not trusted (${reason}): set ${caVariable} to the CA certificate that signed it`;
    case 'expired':
      return `TLS: ${peer}'s certificate is outside its validity period (${reason}): the server needs a current certificate`;
    case 'hostname':
      return `TLS: ${peer}'s certificate is for another host (${reason}): use in ${hostVariable} a name the certificate carries`;
    case 'client-certificate':
      return settings.hasClientCertificate
        ? `TLS: ${peer} refused our client certificate (${reason}): check ${certVariable} and ${keyVariable} (a certificate its CA signed, and its key)`
        : `TLS: ${peer} requires a client certificate (${reason}): set ${certVariable} and ${keyVariable}`;
    case 'handshake':
      return `TLS: the handshake with ${peer} failed (${reason}): is ${hostVariable} a TLS port, and do ${caVariable}, ${certVariable} and ${keyVariable} fit it?`;
  }
}
