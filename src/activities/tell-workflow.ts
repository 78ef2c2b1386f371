/**
 * An activity telling its own workflow something the workflow cannot see by itself (a retry, a connection problem),
 * by signal: bounded in time, and never failing the activity (only `status` and the Web UI would miss it).
 */
import type { Context } from '@temporalio/activity';
import type { Log } from '../log';

/** How long an activity waits for its signal to be taken before giving up on it. */
const SIGNAL_TIMEOUT_MS = 3000;

export async function signalOwnWorkflow(context: Pick<Context, 'info' | 'client'>, log: Log, signal: string, arg: unknown): Promise<void> {
  const execution = context.info.workflowExecution;
  if (!execution) return;
  const { workflowId, runId } = execution;
  let timer: NodeJS.Timeout | undefined;
  try {
    const handle = context.client.workflow.getHandle(workflowId, runId);
    await Promise.race([
      handle.signal(signal, arg),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${SIGNAL_TIMEOUT_MS} ms`)), SIGNAL_TIMEOUT_MS);
      }),
    ]);
  } catch (err) {
    log.debug(`Could not signal ${signal} to workflow ${workflowId}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}
