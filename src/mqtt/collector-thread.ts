/**
 * The collector's own thread: the mqtt.js client, its socket read loop and the parsing of each message run here,
 * so that nothing the activity's thread does (database flushes, heartbeats, Temporal's work, a plan built by the
 * same worker) ever delays reading the socket. Counts leave in batches (a Map per batch, highest count per device),
 * never per message; the thread never waits for the main thread, so a slow database cannot stall the socket (the
 * batches it has not flushed yet are bounded by the fleet: one entry per device).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ApplicationFailure } from '@temporalio/common';
import type { Log } from '../log';
import { Collector } from './collector';
import { BATCH_INTERVAL_MS, type FromThread, type ThreadOptions, type ToThread } from './collector-protocol';

if (!parentPort) throw new Error('collector-thread.js runs as a worker thread (ThreadedCollector), not on its own');
const port = parentPort;
const send = (message: FromThread): void => port.postMessage(message);

const log: Log = {
  info: (line, fields) => send({ kind: 'log', level: 'info', line, fields }),
  debug: (line, fields) => send({ kind: 'log', level: 'debug', line, fields }),
  warn: (line, fields) => send({ kind: 'log', level: 'warn', line, fields }),
  error: (line, fields) => send({ kind: 'log', level: 'error', line, fields }),
};

/** Structured cloning turns the TLS files' Buffers into plain Uint8Arrays; mqtt.js (tls) wants Buffers back. */
function withBuffers(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(withBuffers);
  return value;
}

async function run(options: ThreadOptions): Promise<void> {
  const connectOptions = Object.fromEntries(Object.entries(options.connectOptions).map(([key, value]) => [key, withBuffers(value)]));
  let collector: Collector;
  try {
    collector = await Collector.connect({ ...options, connectOptions, log, onConnectionProblem: (problem) => send({ kind: 'connection-problem', problem }) });
  } catch (err) {
    const failure = err instanceof ApplicationFailure ? { type: err.type ?? undefined, nonRetryable: err.nonRetryable === true } : {};
    send({ kind: 'failed', message: err instanceof Error ? err.message : String(err), ...failure });
    port.close();
    return;
  }
  const handOver = (): void => {
    const batch = collector.drain();
    if (batch.messages > 0 || batch.rejectedCount > 0) send({ kind: 'batch', batch });
  };
  const ticker = setInterval(handOver, BATCH_INTERVAL_MS);
  send({ kind: 'connected' });
  port.on('message', (message: ToThread) => {
    if (message.kind !== 'close') return;
    clearInterval(ticker);
    void collector
      .close({ endSession: message.endSession })
      .catch((err: unknown) => log.error(`Could not disconnect from the MQTT broker cleanly: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        // Everything received before the disconnect, then the end: nothing arrives after this.
        handOver();
        send({ kind: 'closed' });
        port.close();
      });
  });
}

void run(workerData as ThreadOptions);
