/**
 * The broker's side of the session tests: a private Mosquitto with the settings a test needs (sys_interval,
 * max_queued_messages, an ACL), started on a free port, bounded in time and stopped by its pid; and probes that
 * look at a client id's session or publish a single message, as a device that speaks only once would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IConnackPacket } from 'mqtt';
import { brokerUrl, countTopic } from './e2e-mqtt';

/** A private broker never outlives this, whatever happens to the test that started it. */
const PRIVATE_BROKER_LIFETIME_MS = 5 * 60_000;

function mosquittoBinary(): string {
  return process.env.MOSQUITTO_PATH ?? (existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

export class PrivateBroker {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly dir: string,
    private readonly output: () => string,
  ) {}

  /** Starts `mosquitto -c <conf>` on a free port of 127.0.0.1 with `settings` (mosquitto.conf lines) added. */
  static async start(settings: string[], files: Record<string, string> = {}): Promise<PrivateBroker> {
    const dir = mkdtempSync(join(tmpdir(), 'cps-e2e-mosquitto-'));
    // Started as root, mosquitto reads its ACL file as the user it switches to.
    chmodSync(dir, 0o755);
    const port = await freePort();
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const conf = join(dir, 'mosquitto.conf');
    const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stdout', ...settings.map((l) => l.replace('{dir}', dir))];
    writeFileSync(conf, `${lines.join('\n')}\n`);
    const child = spawn(mosquittoBinary(), ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const lifetime = setTimeout(() => child.kill('SIGKILL'), PRIVATE_BROKER_LIFETIME_MS);
    lifetime.unref();
    void exited.then(() => clearTimeout(lifetime));
    const broker = new PrivateBroker(`mqtt://127.0.0.1:${port}`, child, exited, dir, () => output);
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline || child.exitCode !== null) {
        await broker.stop();
        throw new Error(`mosquitto did not start on port ${port}:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return broker;
  }

  log(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Whether the broker holds a session for `clientId`: connects with that id and clean session off (MQTT 5) and reads
 * Session Present in the CONNACK. With `keep`, the session stays afterwards (expiry 300 s; no subscription is made, so
 * nothing is taken from it unless it already has messages queued); without, it is discarded on disconnect (expiry 0),
 * so the probe leaves nothing behind either way it answers.
 */
export async function sessionPresent(clientId: string, { keep = false, url = brokerUrl() } = {}): Promise<boolean> {
  const client = mqtt.connect(url, { clientId, protocolVersion: 5, clean: false, reconnectPeriod: 0, connectTimeout: 5000, properties: { sessionExpiryInterval: keep ? 300 : 0 } });
  try {
    const connack = await new Promise<IConnackPacket>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('error', reject);
      client.once('close', () => reject(new Error(`probe ${clientId}: connection closed before CONNACK`)));
    });
    return connack.sessionPresent;
  } finally {
    await client.endAsync();
  }
}

/** Publishes one connector count with QoS 1 and waits for the broker's PUBACK. */
export async function publishOnce(account: string, deviceId: string, payload: string | number, url = brokerUrl()): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `cps-e2e-once-${Math.random().toString(16).slice(2, 10)}`, reconnectPeriod: 0 }, false);
  try {
    await client.publishAsync(countTopic(account, deviceId), String(payload), { qos: 1, retain: false });
  } finally {
    await client.endAsync();
  }
}
