/**
 * Station simulator for the demo: every second, each device of the demo fleet (demo-fleet.ts) publishes its
 * connector count on its topic under the `demo` account (src/domain/topic.ts) (QoS 1, not retained, so
 * nothing outlives the simulator on the broker), as real stations do.
 *
 *   node dist-tools/tools/demo/simulator.js [--seconds N] [--interval-ms MS] [--alive-file PATH]
 *
 * Broker: CLOUD_HOST (default mqtt://127.0.0.1:1883) and CLOUD_CREDENTIALS, from the environment only (never
 * .env: fake counts must not reach a real broker by accident). Stops cleanly on SIGTERM/SIGINT or after N seconds.
 */
import { writeFileSync } from 'node:fs';
import mqtt, { type IClientOptions } from 'mqtt';
import { ConfigError, loadMqttConfig } from '../../src/config';
import { redactUserInfo } from '../../src/domain/redact';
import { DEMO_ACCOUNT, DEMO_DEVICES } from './demo-fleet';
import { deviceTopic } from '../../src/domain/topic';

const DEFAULT_BROKER = 'mqtt://127.0.0.1:1883';
const CONNECT_TIMEOUT_MS = 15_000;

const USAGE = `Usage: node dist-tools/tools/demo/simulator.js [--seconds N] [--interval-ms MS] [--alive-file PATH]
  --seconds N        stop after N seconds (default: run until SIGTERM or Ctrl-C)
  --interval-ms MS   time between two rounds of messages (default 1000)
  --alive-file PATH  touch PATH whenever the broker acknowledges a message (a container healthcheck reads its age)
Broker: CLOUD_HOST (default ${DEFAULT_BROKER}), CLOUD_CREDENTIALS (JSON connect options), from the environment.`;

class UsageError extends Error {}

interface Options {
  seconds?: number;
  intervalMs: number;
  aliveFile?: string;
}

function parseArgs(argv: string[]): Options | 'help' {
  const options: Options = { intervalMs: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    const [name, inline] = arg.split('=', 2) as [string, string | undefined];
    if (name === '--alive-file') {
      options.aliveFile = inline ?? argv[++i];
      if (options.aliveFile === undefined || options.aliveFile === '') throw new UsageError(`--alive-file: expected a path\n${USAGE}`);
      continue;
    }
    if (name !== '--seconds' && name !== '--interval-ms') throw new UsageError(`unknown option ${arg}\n${USAGE}`);
    const raw = inline ?? argv[++i];
    const value = raw !== undefined && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
    if (!(value > 0)) throw new UsageError(`${name}: expected a positive number, got ${raw ?? 'nothing'}\n${USAGE}`);
    if (name === '--seconds') options.seconds = value;
    else options.intervalMs = value;
  }
  return options;
}

async function main(argv: string[]): Promise<void> {
  const options = parseArgs(argv);
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const host = process.env.CLOUD_HOST?.trim() ? process.env.CLOUD_HOST : DEFAULT_BROKER;
  const broker = loadMqttConfig({ ...process.env, CLOUD_HOST: host });

  const client = mqtt.connect(broker.url, {
    clientId: `cp-sync-demo-simulator-${Math.random().toString(16).slice(2, 10)}`,
    ...(broker.options as IClientOptions),
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
  });
  // mqtt.js retries every second: say each distinct error once, not once a second.
  let lastError = '';
  client.on('error', (err) => {
    if (err.message !== lastError) process.stderr.write(`Simulator: MQTT error: ${err.message} (retrying)\n`);
    lastError = err.message;
  });
  client.on('connect', () => {
    lastError = '';
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end(true);
      reject(new Error(`MQTT broker ${redactUserInfo(broker.url)} did not accept a connection within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
  });

  let round = 0;
  let published = 0;
  let failed = 0;
  const publishRound = (): void => {
    for (const device of DEMO_DEVICES) {
      const payload = device.payloads[round % device.payloads.length]!;
      client.publish(deviceTopic(DEMO_ACCOUNT, device.deviceId), payload, { qos: 1, retain: false }, (err) => {
        if (!err) {
          published++;
          if (options.aliveFile !== undefined) writeFileSync(options.aliveFile, `${new Date().toISOString()}\n`);
        }
        else if (failed++ === 0) process.stderr.write(`Simulator: publish failed (${err.message}); retrying every round\n`);
      });
    }
    round++;
  };

  process.stdout.write(
    `Simulator: ${DEMO_DEVICES.length} demo devices publish their connector count on ${deviceTopic(DEMO_ACCOUNT, '<deviceId>')} ` +
      `to ${redactUserInfo(broker.url)} every ${options.intervalMs} ms (QoS 1, not retained)` +
      `${options.seconds !== undefined ? ` for ${options.seconds} s` : ''}; SIGTERM or Ctrl-C stops it\n`,
  );
  publishRound();
  const ticker = setInterval(publishRound, options.intervalMs);

  let stopping = false;
  let limit: NodeJS.Timeout | undefined;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    clearInterval(ticker);
    if (limit) clearTimeout(limit);
    // Let the messages in flight be acknowledged, but do not hang on a broker that went away.
    await Promise.race([client.endAsync(), new Promise((resolve) => setTimeout(resolve, 3000))]);
    client.end(true);
    process.stdout.write(`Simulator: stopped (${why}) after ${round} rounds, ${published} messages acknowledged${failed > 0 ? `, ${failed} failed` : ''}\n`);
  };
  if (options.seconds !== undefined) limit = setTimeout(() => void stop(`${options.seconds} s elapsed`), options.seconds * 1000);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void stop(signal));
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`${err instanceof UsageError ? '' : err instanceof ConfigError ? 'Configuration error: ' : 'Simulator error: '}${err.message}\n`);
  process.exitCode = err instanceof UsageError || err instanceof ConfigError ? 2 : 1;
});
