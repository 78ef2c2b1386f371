/**
 * The benchmark's stations (a child process of benchmark.ts, so that publishing never competes with what is
 * measured): publishes the fleet's counts (fleet.ts) at a steady rate, QoS 1, not retained, then reports how many
 * the broker acknowledged. Started with `fork`; gets its job as the first IPC message, answers with one.
 */
import mqtt from 'mqtt';
import { benchDevice } from './fleet';
import { deviceTopic } from '../../src/domain/topic';

export interface PublishJob {
  url: string;
  account: string;
  devices: number;
  /** Messages per second. */
  rate: number;
}

export interface PublishReport {
  published: number;
  failed: number;
  seconds: number;
}

const TICK_MS = 5;
/** How long the last acknowledgements may take once everything is sent. */
const ACK_WAIT_MS = 30_000;

async function publish(job: PublishJob): Promise<PublishReport> {
  const client = await mqtt.connectAsync(job.url, { clientId: `cps-bench-pub-${process.pid}`, protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  let published = 0;
  let failed = 0;
  let sent = 0;
  const total = Array.from({ length: job.devices }, (_, i) => benchDevice(i + 1).messages).reduce((a, b) => a + b, 0);
  const started = Date.now();
  let device = 1;
  let repeat = 0;
  await new Promise<void>((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      // Whatever the broker never acknowledged counts as failed.
      failed = total - published;
      resolve();
    };
    // A broker that drops the connection (overloaded) leaves acknowledgements pending for good.
    client.once('close', finish);
    const done = (err?: Error): void => {
      if (err) failed++;
      else published++;
      if (published + failed === total) finish();
    };
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * job.rate));
      while (sent < due) {
        const d = benchDevice(device);
        client.publish(deviceTopic(job.account, d.deviceId), String(d.connectors), { qos: 1, retain: false }, done);
        sent++;
        if (++repeat >= d.messages) {
          repeat = 0;
          device++;
        }
      }
      if (sent < total) setTimeout(tick, TICK_MS);
      else setTimeout(finish, ACK_WAIT_MS).unref();
    };
    tick();
  });
  const seconds = (Date.now() - started) / 1000;
  client.end(true);
  return { published, failed, seconds };
}

process.once('message', (job: PublishJob) => {
  publish(job).then(
    (report) => process.send?.(report, () => process.exit(0)),
    (err: Error) => {
      process.stderr.write(`publisher failed: ${err.message}\n`);
      process.exit(1);
    },
  );
});
