/**
 * The watch's own messages. Approve and reject are the sync's (definitions.ts: same names and payloads), so that
 * `cp-sync approve|reject`, `temporal workflow update|signal` and the Web UI work on a watch as on a sync.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { WatchStatus, WatchStopRequest } from '../watch-shared';

export const watchStatusQuery = defineQuery<WatchStatus>('status');
/** Ends the watch cleanly: the collectors stop, their MQTT sessions end, a waiting plan is withdrawn. */
export const stopWatchUpdate = defineUpdate<WatchStatus, [WatchStopRequest]>('stop');
export const stopWatchSignal = defineSignal<[WatchStopRequest?]>('stop');
