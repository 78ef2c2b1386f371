/**
 * A private MariaDB server for fault tests, never the shared one: its own data dir (mariadb-install-db) in a temp
 * folder, its own free port on 127.0.0.1, optionally TLS and `require_secure_transport=ON`. `root` has no password
 * and may connect from 127.0.0.1. `stop()` ends it by pid and removes the data dir.
 *
 *   const server = await start({ tls: { ca, cert, key }, requireSecureTransport: true });
 *   … connect to 127.0.0.1:server.port as root …
 *   await server.stop();
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startListening, type PrivateProcess } from './private-process';

export interface PrivateMariadbOptions {
  /** Server certificate, its key and the CA that client certificates must chain to (absolute paths). */
  tls?: { ca: string; cert: string; key: string };
  /** Refuse connections without TLS (needs `tls`). */
  requireSecureTransport?: boolean;
  /** How long to wait for the server to listen, in ms (default 30 s). */
  startTimeoutMs?: number;
}

export interface PrivateMariadb {
  host: string;
  port: number;
  /** `root`, with an empty password. */
  user: string;
  password: string;
  pid: number;
  /** The server's output so far. */
  log(): string;
  stop(): Promise<void>;
  /** Kills the server with SIGKILL (a crash); its data dir stays, for `restart`. */
  crash(): Promise<void>;
  /** Starts it again on the same data dir and port (after `crash`). */
  restart(): Promise<void>;
}

/** mariadbd and mariadb-install-db, from PATH or /usr/sbin, /usr/bin (or mysqld / mysql_install_db). */
function binary(...names: string[]): string {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin'])) {
      if (dir !== '' && existsSync(join(dir, name))) return join(dir, name);
    }
  }
  throw new Error(`none of ${names.join(', ')} found (apt-get install mariadb-server)`);
}

export async function start(options: PrivateMariadbOptions = {}): Promise<PrivateMariadb> {
  const dir = mkdtempSync(join(tmpdir(), 'cps-mariadb-'));
  const dataDir = join(dir, 'data');
  // A temporary directory of its own: at start (mariadb-install-db's bootstrap too) the server deletes every `#sql*`
  // file in its tmpdir as a crash's leftovers. In the default /tmp those are the live temporary tables of the shared
  // server, whose queries then fail with "Error on delete of '/tmp/#sql-temptable-….MAI'" (EE_DELETE).
  const tmpDir = join(dir, 'tmp');
  mkdirSync(tmpDir);
  const root = process.getuid?.() === 0;
  try {
    await promisify(execFile)(
      binary('mariadb-install-db', 'mysql_install_db'),
      ['--no-defaults', `--datadir=${dataDir}`, `--tmpdir=${tmpDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...(root ? ['--user=root'] : [])],
      { timeout: 60_000 },
    );
    const port = await freePort();
    const args = [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--tmpdir=${tmpDir}`,
      `--port=${port}`,
      `--socket=${join(dir, 'sock')}`,
      `--pid-file=${join(dir, 'pid')}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=16M',
      ...(root ? ['--user=root'] : []),
      ...(options.tls ? [`--ssl-ca=${options.tls.ca}`, `--ssl-cert=${options.tls.cert}`, `--ssl-key=${options.tls.key}`] : []),
      ...(options.requireSecureTransport ? ['--require-secure-transport=ON'] : []),
    ];
    const launch = (): Promise<PrivateProcess> => startListening(binary('mariadbd', 'mysqld'), args, port, join(dir, 'server.log'), options.startTimeoutMs ?? 30_000);
    let server = await launch();
    return {
      host: '127.0.0.1',
      port,
      user: 'root',
      password: '',
      get pid() {
        return server.pid;
      },
      log: () => server.log(),
      stop: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
      crash: () => server.kill(),
      restart: async () => {
        server = await launch();
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
