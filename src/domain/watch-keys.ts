/**
 * The keys a watch is known by in the tool's tables and on the broker, all derived from its workflow id: the same
 * watch (any run, any attempt, any worker, after continue-as-new) always gets the same ones.
 */
import { createHash } from 'node:crypto';

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 20);
}

/** The watch's rows in cp_sync_watch_devices: `watch-` and 20 hex digits (workflow ids may be 255 characters). */
export function watchKeyOf(workflowId: string): string {
  return `watch-${digest(workflowId)}`;
}

/** A cycle's plan and apply record (run_key of the plan tables and cp_sync_runs): at most 48 characters. */
export function cycleRunKey(workflowId: string, cycle: number): string {
  return `${watchKeyOf(workflowId)}-c${cycle}`;
}

/**
 * The session key of one collector of the watch (mqtt/collector.ts hashes it into the client id): the same across
 * runs, so that a collector started after continue-as-new or a worker restart resumes the session the broker kept.
 */
export function watchSessionKey(workflowId: string, index = 0): string {
  return index === 0 ? `watch:${workflowId}` : `watch:${workflowId}#${index}`;
}
