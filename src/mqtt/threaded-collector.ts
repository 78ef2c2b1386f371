/**
 * The activity's handle on a collector that runs in a thread of its own (collector-thread.ts): same operations as
 * Collector (drain, restore, close), fed by the batches the thread hands over. The thread never waits for this
 * side; what has not been drained yet is merged here (highest count per device), so it stays bounded by the fleet.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ApplicationFailure } from '@temporalio/common';
import { keepHighest } from '../domain/message';
import { emptyFlush, type Flush } from '../domain/collected-batch';
import type { CollectorOptions } from './collector';
import type { FromThread, ThreadOptions, ToThread } from './collector-protocol';

/** Rejects kept between two drains, as in the thread; the rest are only counted. */
const REJECTION_SAMPLES_PER_DRAIN = 100;
/**
 * How long the thread may take to disconnect and hand over its last counts (ending the session takes at most 5 s)
 * before it is stopped: a hung disconnect must not hold the activity past its window.
 */
const CLOSE_TIMEOUT_MS = 15_000;

/**
 * The thread's script: beside this file once built. The tests run the TypeScript sources (ts-jest), whose thread
 * runs the build of the same sources (`npm run build` first, as for every e2e run).
 */
export function collectorThreadFile(): string {
  const beside = join(__dirname, 'collector-thread.js');
  return existsSync(beside) ? beside : join(__dirname, '..', '..', 'dist', 'mqtt', 'collector-thread.js');
}

export class ThreadedCollector {
  private pending = emptyFlush();
  private closed: Promise<void> | undefined;
  private ended = false;
  private onClosed: (() => void) | undefined;
  /** Rejects when the thread dies before it was closed (the attempt fails, and Temporal retries it). */
  readonly lost: Promise<never>;
  private loseWith: (err: Error) => void = () => undefined;

  private constructor(private readonly thread: Worker) {
    this.lost = new Promise<never>((_, reject) => (this.loseWith = reject));
    // Nobody may be awaiting `lost` yet (or ever, once closed): an unobserved rejection must not crash the worker.
    this.lost.catch(() => undefined);
  }

  /** `abort`: stops trying to connect (the thread ends) and rejects with the signal's reason. */
  static connect(options: CollectorOptions, abort?: AbortSignal): Promise<ThreadedCollector> {
    const { log, onConnectionProblem, ...threadOptions } = options;
    const thread = new Worker(collectorThreadFile(), { workerData: threadOptions satisfies ThreadOptions });
    const collector = new ThreadedCollector(thread);
    return new Promise((resolve, reject) => {
      let connected = false;
      const onAbort = (): void => {
        if (connected) return;
        reject(abort?.reason instanceof Error ? abort.reason : new Error('stopped while connecting to the MQTT broker'));
        void thread.terminate();
      };
      if (abort?.aborted) onAbort();
      else abort?.addEventListener('abort', onAbort, { once: true });
      thread.on('message', (message: FromThread) => {
        switch (message.kind) {
          case 'connection-problem':
            onConnectionProblem?.(message.problem);
            return;
          case 'log':
            log[message.level](message.line, message.fields);
            return;
          case 'batch':
            collector.take(message.batch);
            return;
          case 'connected':
            connected = true;
            abort?.removeEventListener('abort', onAbort);
            resolve(collector);
            return;
          case 'failed':
            reject(
              message.type !== undefined
                ? ApplicationFailure.create({ type: message.type, message: message.message, nonRetryable: message.nonRetryable ?? false })
                : new Error(message.message),
            );
            return;
          case 'closed':
            collector.ended = true;
            collector.onClosed?.();
            return;
        }
      });
      const died = (why: string): void => {
        if (collector.ended) return;
        const err = new Error(`the MQTT collector's thread stopped (${why})`);
        if (!connected) reject(err);
        collector.ended = true;
        collector.loseWith(err);
        collector.onClosed?.();
      };
      thread.on('error', (err) => died(err.message));
      thread.on('exit', (code) => died(`exit code ${code}`));
    });
  }

  private take(batch: Flush): void {
    for (const [deviceId, connectors] of batch.counts) keepHighest(this.pending.counts, { deviceId, connectors });
    this.pending.messages += batch.messages;
    this.pending.rejectedCount += batch.rejectedCount;
    for (const sample of batch.rejected) if (this.pending.rejected.length < REJECTION_SAMPLES_PER_DRAIN) this.pending.rejected.push(sample);
  }

  /** Hands over everything the thread has passed on since the last drain. */
  drain(): Flush {
    const batch = this.pending;
    this.pending = emptyFlush();
    return batch;
  }

  /** Puts back a batch whose write failed, so the next drain carries it again. */
  restore(batch: Flush): void {
    for (const [deviceId, connectors] of batch.counts) keepHighest(this.pending.counts, { deviceId, connectors });
    this.pending.messages += batch.messages;
    this.pending.rejectedCount += batch.rejectedCount;
    this.pending.rejected.unshift(...batch.rejected);
  }

  /**
   * Disconnects (once; later calls wait for the first), as Collector.close does, and resolves once the thread has
   * handed over its last counts: after it, drain() holds everything this collector received.
   */
  close({ endSession }: { endSession: boolean }): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.ended) return resolve();
      const timer = setTimeout(() => void this.thread.terminate(), CLOSE_TIMEOUT_MS);
      this.onClosed = () => {
        clearTimeout(timer);
        resolve();
      };
      this.thread.postMessage({ kind: 'close', endSession } satisfies ToThread);
    });
    return this.closed;
  }
}
