import type { DatabaseTls } from '../../src/config';
import { sslOptions } from '../../src/db/pool';

describe('sslOptions (OCPP_MYSQL_SSL → mysql2 ssl)', () => {
  const ca = Buffer.from('ca');

  it('is absent when TLS is off', () => {
    expect(sslOptions(undefined)).toBeUndefined();
  });

  it.each<[DatabaseTls['mode'], boolean, boolean]>([
    ['on', false, false],
    ['verify-ca', true, false],
    ['verify-identity', true, true],
  ])('%s: verifies the chain %s, the host name %s', (mode, rejectUnauthorized, verifyIdentity) => {
    expect(sslOptions({ mode, ca: mode === 'on' ? undefined : ca })).toMatchObject({ rejectUnauthorized, verifyIdentity });
  });

  it('passes the CA, the client certificate and its key', () => {
    const cert = Buffer.from('cert');
    const key = Buffer.from('key');
    expect(sslOptions({ mode: 'verify-ca', ca, cert, key })).toMatchObject({ ca, cert, key });
  });
});
