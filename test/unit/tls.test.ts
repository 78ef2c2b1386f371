import { explainTlsFailure, tlsDetail, tlsFailureOf, type TlsFailureKind, type TlsSettings } from '../../src/domain/tls';

/** An error as Node's tls module gives it (e.g. through mqtt.js's 'error' event). */
function tlsError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

describe('tlsFailureOf', () => {
  it.each<[string, Error, TlsFailureKind]>([
    ['a chain to an unknown CA', tlsError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), 'untrusted'],
    ['a self-signed server certificate', tlsError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'), 'untrusted'],
    ['a missing intermediate', tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'), 'untrusted'],
    ['no local issuer', tlsError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'), 'untrusted'],
    ['an expired certificate', tlsError('CERT_HAS_EXPIRED', 'certificate has expired'), 'expired'],
    ['a certificate for another host', tlsError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"), 'hostname'],
    [
      'TLS 1.3: the server wants a client certificate',
      tlsError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'C0:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…\n', { reason: 'tlsv13 alert certificate required' }),
      'client-certificate',
    ],
    ['TLS 1.2: the server refuses the handshake', tlsError('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'sslv3 alert handshake failure', { reason: 'sslv3 alert handshake failure' }), 'client-certificate'],
    ['a client certificate from another CA', tlsError('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca', { reason: 'tlsv1 alert unknown ca' }), 'client-certificate'],
    ['a plain-text port', tlsError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number', { reason: 'wrong version number' }), 'handshake'],
  ])('%s → %s', (_case, err, kind) => {
    expect(tlsFailureOf(err)).toBe(kind);
  });

  it.each([
    ['a refused connection', tlsError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8883', { syscall: 'connect' })],
    ['a reset', tlsError('ECONNRESET', 'read ECONNRESET', { syscall: 'read' })],
    ['a CONNACK refusal', Object.assign(new Error('Connection refused: Not authorized'), { code: 5 })],
    ['not an error', 'SELF_SIGNED_CERT_IN_CHAIN'],
    ['undefined', undefined],
  ])('is not a TLS failure: %s', (_case, err) => {
    expect(tlsFailureOf(err)).toBeUndefined();
  });

  it("reads the message when the code is lost (mysql2's HANDSHAKE_SSL_ERROR), but not a network cut", () => {
    expect(tlsFailureOf(tlsError('HANDSHAKE_SSL_ERROR', 'self-signed certificate in certificate chain'), true)).toBe('untrusted');
    expect(tlsFailureOf(tlsError('HANDSHAKE_SSL_ERROR', 'self-signed certificate in certificate chain'))).toBeUndefined();
    expect(tlsFailureOf(tlsError('HANDSHAKE_SSL_ERROR', 'read ECONNRESET', { syscall: 'read' }), true)).toBeUndefined();
    expect(tlsFailureOf(tlsError('HANDSHAKE_SSL_ERROR', 'socket hang up'), true)).toBeUndefined();
  });
});

describe('explainTlsFailure', () => {
  const mqtt = (hasClientCertificate: boolean): TlsSettings => ({
    peer: 'the MQTT broker',
    caVariable: 'CLOUD_TLS_CA_PATH',
    certVariable: 'CLOUD_TLS_CERT_PATH',
    keyVariable: 'CLOUD_TLS_KEY_PATH',
    hostVariable: 'CLOUD_HOST',
    hasClientCertificate,
  });

  it.each<[TlsFailureKind, boolean, string]>([
    ['untrusted', false, 'set CLOUD_TLS_CA_PATH to the CA certificate that signed it'],
    ['hostname', false, 'use in CLOUD_HOST a name the certificate carries'],
    ['client-certificate', false, 'requires a client certificate (x): set CLOUD_TLS_CERT_PATH and CLOUD_TLS_KEY_PATH'],
    ['client-certificate', true, 'refused our client certificate (x): check CLOUD_TLS_CERT_PATH and CLOUD_TLS_KEY_PATH'],
    ['handshake', false, 'is CLOUD_HOST a TLS port'],
  ])('%s (client certificate: %s) says what to fix', (kind, hasCert, fix) => {
    expect(explainTlsFailure(kind, 'x', mqtt(hasCert))).toContain(fix);
  });

  it("keeps Node's words short: the code and OpenSSL's reason, not the whole OpenSSL line", () => {
    const err = tlsError('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'C0:error:0A00045C:SSL routines:…:SSL alert number 116\n', { reason: 'tlsv13 alert certificate required' });
    expect(tlsDetail(err)).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: tlsv13 alert certificate required');
    expect(tlsDetail(tlsError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'))).toBe(
      'SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain',
    );
  });
});
