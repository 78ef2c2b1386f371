/**
 * Throw-away TLS material made with `openssl` in a temp dir, for tests of encrypted connections: a CA, a server
 * certificate for 127.0.0.1 and localhost signed by it, a client certificate signed by it, a server certificate of
 * the same CA for another name only (db.invalid), and a second, unrelated CA (the "wrong CA" of the failure
 * tests). Everything is valid for two days. `remove()` deletes the folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** The CA that signed the server and client certificates. */
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Signed by `ca`, for db.invalid only: not for 127.0.0.1 or localhost. */
  elsewhereCert: string;
  elsewhereKey: string;
  /** A CA that signed nothing here. */
  otherCa: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const { stderr } = err as { stderr?: Buffer };
    throw new Error(`openssl ${args[0]} failed: ${stderr?.toString() ?? String(err)}`);
  }
}

/** A key and a certificate signed by `ca` (files `<name>.pem`, `<name>.key`), with the given extensions. */
function signed(dir: string, name: string, subject: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'cps-tls-'));
  const selfSignedCa = (name: string, subject: string): void =>
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', subject]);
  selfSignedCa('ca', '/CN=cp-sync test CA');
  selfSignedCa('other-ca', '/CN=cp-sync unrelated CA');
  signed(dir, 'server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'elsewhere', '/CN=db.invalid', 'subjectAltName=DNS:db.invalid\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'client', '/CN=cp-sync test client', 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const file = (name: string): string => join(dir, name);
  return {
    dir,
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    elsewhereCert: file('elsewhere.pem'),
    elsewhereKey: file('elsewhere.key'),
    otherCa: file('other-ca.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
