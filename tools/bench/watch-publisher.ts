/**
 * The watch benchmark's stations (a child process of watch-bench.ts): for the given time, every fleet device
 * publishes its count once per period (a steady N / period msg/s), and K new devices a minute publish theirs, each
 * announced to the parent (`{ newDevice, atMs }`) as it is sent, so that the parent can time its points. QoS 1, not
 * retained. Started with `fork`; gets its job as the first IPC message, answers `{ report }` at the end.
 */
import mqtt from 'mqtt';
import { deviceTopic } from '../../src/domain/topic';
import { benchDevice, newBenchDevice } from './fleet';

export interface WatchPublishJob {
  url: string;
  account: string;
  devices: number;
  periodSeconds: number;
  newPerMinute: number;
  seconds: number;
}

export interface WatchPublishReport {
  published: number;
  failed: number;
  seconds: number;
  /** Fleet devices 1 to this one published at least once. */
  fleetDevicesHeard: number;
  newDevices: number;
}

export type WatchPublisherMessage = { newDevice: number; atMs: number } | { report: WatchPublishReport };

const TICK_MS = 20;
const ACK_WAIT_MS = 30_000;

async function publish(job: WatchPublishJob): Promise<WatchPublishReport> {
  const client = await mqtt.connectAsync(job.url, { clientId: `cps-bench-wpub-${process.pid}`, protocolVersion: 4, clean: true, reconnectPeriod: 0 });
  let sent = 0;
  let published = 0;
  let failed = 0;
  let fleetSent = 0;
  let newSent = 0;
  const done = (err?: Error): void => void (err ? failed++ : published++);
  const send = (deviceId: string, connectors: number): void => {
    client.publish(deviceTopic(job.account, deviceId), String(connectors), { qos: 1, retain: false }, done);
    sent++;
  };
  const started = Date.now();
  const fleetRate = job.devices / job.periodSeconds;
  const newTotal = Math.floor((job.newPerMinute * job.seconds) / 60);
  for (;;) {
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed >= job.seconds) break;
    // The fleet in turn, each device once a period (with its duplicate, for 10 % of them).
    for (const due = Math.floor(elapsed * fleetRate); fleetSent < due; fleetSent++) {
      const device = benchDevice((fleetSent % job.devices) + 1);
      for (let k = 0; k < device.messages; k++) send(device.deviceId, device.connectors);
    }
    // New devices, spread over each minute: the k-th at (k + ½) × 60 / K s, so that all K × M come within M minutes.
    for (const due = Math.min(newTotal, Math.floor((elapsed * job.newPerMinute) / 60 + 0.5)); newSent < due; newSent++) {
      const i = job.devices + newSent + 1;
      send(newBenchDevice(i).deviceId, newBenchDevice(i).connectors);
      process.send?.({ newDevice: i, atMs: Date.now() } satisfies WatchPublisherMessage);
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  const ackDeadline = Date.now() + ACK_WAIT_MS;
  while (published + failed < sent && Date.now() < ackDeadline && client.connected) await new Promise((resolve) => setTimeout(resolve, 100));
  client.end(true);
  // Whatever the broker never acknowledged counts as failed.
  return { published, failed: sent - published, seconds: (Date.now() - started) / 1000, fleetDevicesHeard: Math.min(job.devices, fleetSent), newDevices: newSent };
}

process.once('message', (job: WatchPublishJob) => {
  publish(job).then(
    (report) => process.send?.({ report } satisfies WatchPublisherMessage, () => process.exit(0)),
    (err: Error) => {
      process.stderr.write(`watch publisher failed: ${err.message}\n`);
      process.exit(1);
    },
  );
});
