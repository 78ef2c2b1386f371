/** What the collector's thread (collector-thread.ts) and the activity's side (threaded-collector.ts) say to each other. */
import type { Flush } from '../domain/collected-batch';
import type { LogFields } from '../log';
import type { BrokerConnectionProblem } from '../shared';
import type { CollectorOptions } from './collector';

/** How often the thread hands its counts over: small against the 1 s flush, large against one message. */
export const BATCH_INTERVAL_MS = 200;

/** The collector's options without the log (the thread's lines come back as messages). */
export type ThreadOptions = Omit<CollectorOptions, 'log' | 'onConnectionProblem'>;

export type ToThread = { kind: 'close'; endSession: boolean };

export type FromThread =
  | { kind: 'connected' }
  | { kind: 'failed'; message: string; type?: string; nonRetryable?: boolean }
  | { kind: 'connection-problem'; problem: BrokerConnectionProblem | undefined }
  | { kind: 'log'; level: 'info' | 'debug' | 'warn' | 'error'; line: string; fields?: LogFields }
  | { kind: 'batch'; batch: Flush }
  | { kind: 'closed' };
