/**
 * A private Mosquitto broker for fault tests, never the shared one: its own config file in a temp folder and its own
 * free port on 127.0.0.1, optionally TLS with client certificates required. Anonymous clients are allowed (the
 * certificate is the credential). `stop()` ends it by pid and removes the folder. With `persistence`, the broker
 * saves its sessions and queued messages in the folder, and `restart()` stops it cleanly and starts it again there.
 *
 *   const broker = await start({ tls: { ca, cert, key }, requireCertificate: true });
 *   … connect to broker.url (mqtts://127.0.0.1:<port>) …
 *   await broker.stop();
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startListening, type PrivateProcess } from './private-process';

export interface PrivateMosquittoOptions {
  /** Server certificate, its key, and the CA that client certificates must chain to (absolute paths). */
  tls?: { ca: string; cert: string; key: string };
  /** Refuse clients without a certificate signed by `tls.ca`. */
  requireCertificate?: boolean;
  /** More mosquitto.conf lines for the listener (e.g. `sys_interval 1`, `max_queued_messages 10`); `{dir}` is the temp folder. */
  settings?: string[];
  /** Files to write into the temp folder first (e.g. an ACL file for `acl_file {dir}/acl`), by name. */
  files?: Record<string, string>;
  /** Keep sessions, subscriptions and queued QoS 1 messages across `restart()` (saved in the temp folder). */
  persistence?: boolean;
  /** How long to wait for the broker to listen, in ms (default 15 s). */
  startTimeoutMs?: number;
}

export interface PrivateMosquitto {
  port: number;
  /** `mqtts://127.0.0.1:<port>` with TLS, else `mqtt://…`. */
  url: string;
  pid: number;
  log(): string;
  stop(): Promise<void>;
  /** SIGTERM (a clean shutdown: a persistent broker saves its state), `downMs` without a broker, then the same broker again. */
  restart(downMs?: number): Promise<void>;
}

export async function start(options: PrivateMosquittoOptions = {}): Promise<PrivateMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'cps-mosquitto-'));
  try {
    const port = await freePort();
    const lines = [
      'per_listener_settings true',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      `persistence ${options.persistence === true}`,
      ...(options.persistence ? [`persistence_location ${dir}/`] : []),
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      // Run as root (a CI container), mosquitto would switch to user `mosquitto`, who cannot read the temp files.
      'user root',
    ];
    if (options.tls) {
      lines.push(`cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`);
      lines.push(`require_certificate ${options.requireCertificate === true}`);
    }
    for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
    lines.push(...(options.settings ?? []).map((line) => line.replace('{dir}', dir)));
    const config = join(dir, 'mosquitto.conf');
    writeFileSync(config, `${lines.join('\n')}\n`);
    let generation = 0;
    const launch = (): Promise<PrivateProcess> => startListening('mosquitto', ['-c', config], port, join(dir, `broker-${++generation}.log`), options.startTimeoutMs ?? 15_000);
    let broker = await launch();
    return {
      port,
      url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
      get pid() {
        return broker.pid;
      },
      log: () => broker.log(),
      stop: async () => {
        await broker.stop();
        rmSync(dir, { recursive: true, force: true });
      },
      restart: async (downMs = 0) => {
        await broker.stop();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        broker = await launch();
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
