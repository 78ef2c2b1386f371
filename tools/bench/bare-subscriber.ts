/**
 * The raw limit of intake: a bare mqtt.js subscriber (a child process of benchmark.ts) on the same topics as the
 * collectors, counting what it receives and nothing else. `{ url, account }` as the first IPC message; it answers
 * `subscribed`, then, on `stop`, the count.
 */
import mqtt from 'mqtt';
import { topicFilterFor } from '../../src/domain/topic';

process.once('message', (job: { url: string; account: string }) => {
  void (async () => {
    const client = await mqtt.connectAsync(job.url, { clientId: `cps-bench-bare-${process.pid}`, protocolVersion: 5, clean: true, reconnectPeriod: 0 });
    let received = 0;
    client.on('message', () => received++);
    await client.subscribeAsync(topicFilterFor(job.account), { qos: 1 });
    process.send?.({ subscribed: true });
    process.once('message', () => {
      void client.endAsync().finally(() => process.send?.({ received }, () => process.exit(0)));
    });
  })().catch((err: Error) => {
    process.stderr.write(`bare subscriber failed: ${err.message}\n`);
    process.exit(1);
  });
});
