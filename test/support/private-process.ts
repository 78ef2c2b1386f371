/**
 * What the private servers of the fault tests share: a free port, a child process started with a bounded wait
 * until it accepts TCP connections, and a stop by pid (SIGTERM, then SIGKILL after a few seconds).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';

const PRIVATE_PROCESS_LIFETIME_MS = 5 * 60_000;

/** A port that was free a moment ago: bind port 0 on 127.0.0.1 and let it go. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface PrivateProcess {
  pid: number;
  /** Its output so far (stdout and stderr), for diagnosis. */
  log(): string;
  stop(): Promise<void>;
  /** SIGKILL, as a crash: no clean shutdown. */
  kill(): Promise<void>;
}

/**
 * Spawns `command args` with its output in `logFile`, and resolves once 127.0.0.1:`port` accepts a connection.
 * Fails (and kills it) when it exits first or does not listen within `timeoutMs`.
 */
export async function startListening(command: string, args: string[], port: number, logFile: string, timeoutMs: number): Promise<PrivateProcess> {
  const out = createWriteStream(logFile);
  await new Promise((resolve) => out.once('open', resolve));
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', out, out] });
  // Whatever happens to the test that started it, a private server never outlives this.
  const lifetime = setTimeout(() => child.kill('SIGKILL'), PRIVATE_PROCESS_LIFETIME_MS);
  lifetime.unref();
  let exited: string | undefined;
  const ended = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(lifetime);
      exited = `exited with ${signal ?? code}`;
      resolve();
    });
    child.once('error', (err) => {
      exited = `could not start: ${err.message}`;
      resolve();
    });
  });
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (exited === undefined && child.pid !== undefined) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await ended;
      clearTimeout(killer);
    }
    out.end();
  };
  const kill = async (): Promise<void> => {
    if (exited === undefined && child.pid !== undefined) {
      child.kill('SIGKILL');
      await ended;
    }
    out.end();
  };
  const deadline = Date.now() + timeoutMs;
  while (!(await accepts(port))) {
    if (exited !== undefined || Date.now() > deadline) {
      const why = exited ?? `did not listen on port ${port} within ${timeoutMs} ms`;
      await stop();
      throw new Error(`${command} ${why}:\n${log().slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: child.pid!, log, stop, kill };
}
