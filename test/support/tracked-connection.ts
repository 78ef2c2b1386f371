/**
 * A test's Temporal client connection that is closed only once the calls made on it have ended.
 *
 * The SDK retries a call that failed with a retryable status (RESOURCE_EXHAUSTED, UNAVAILABLE: common on a loaded
 * machine) from a timer. A retry whose timer fires after the connection closed throws "Channel has been shut down"
 * from that timer: jest then fails whichever test file runs next in the same worker process, although every test
 * passed. A call still running when its test file ends is a test's own defect (a promise nobody awaited), so the
 * close says which method it was.
 */
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { waitFor } from './wait';

/** The SDK's retries of one call take at most about 35 s (10 attempts, at most 5 s apart). */
const CALLS_END_WITHIN_MS = 40_000;

export interface TrackedConnection {
  connection: Connection;
  /** The methods of the calls not yet ended (retries included). */
  inFlight(): string[];
  /** Waits for the calls in flight to end (bounded), then closes; says on stderr which calls did not end. */
  close(): Promise<void>;
}

export async function connectTracked(address: string): Promise<TrackedConnection> {
  const calls = new Map<number, string>();
  let lastCall = 0;
  // Outermost, so that a call counts as ended only when the retry interceptor below it has given up or succeeded.
  const track: Interceptor = (options, nextCall) => {
    const id = ++lastCall;
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        calls.set(id, options.method_definition.path);
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            calls.delete(id);
            nextStatus(status);
          },
        });
      },
    });
  };
  const connection = await Connection.connect({ address, interceptors: [track, makeGrpcRetryInterceptor(defaultGrpcRetryOptions())] });
  const inFlight = (): string[] => [...calls.values()];
  return {
    connection,
    inFlight,
    async close() {
      try {
        await waitFor('the Temporal calls in flight to end', () => calls.size === 0, { timeoutMs: CALLS_END_WITHIN_MS, intervalMs: 50 });
      } catch {
        process.stderr.write(`closing the test's Temporal connection with calls still in flight (a promise not awaited?): ${inFlight().join(', ')}\n`);
      }
      await connection.close();
    },
  };
}
