/**
 * What the worker's log and metrics learn from the activity being run: which run a line belongs to (read from the
 * activity's context, so that call sites stay plain `log.info(line)`), and how each attempt ended.
 */
import { CancelledFailure, Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { LogContext } from '../log';
import type { ActivityLabels, SyncMetrics } from '../metrics';

/** The current activity's run, or undefined outside an activity (the worker's own lines). */
export function activityLogContext(): LogContext | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  return { workflowId: info.workflowExecution?.workflowId, runId: info.workflowExecution?.runId, activity: info.activityType, attempt: info.attempt };
}

/** An attempt's labels, as the SDK's own activity metrics have them. */
export function activityLabels(info: Pick<Context['info'], 'namespace' | 'taskQueue' | 'activityType'>): ActivityLabels {
  return { namespace: info.namespace, task_queue: info.taskQueue, activity_type: info.activityType };
}

/** Counts every attempt of every activity by its outcome (cp_sync_activity_attempts_total). */
export function attemptMetrics(metrics: SyncMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const labels = activityLabels(ctx.info);
        try {
          const result = await next(input);
          metrics.attempt(labels, 'succeeded');
          return result;
        } catch (err) {
          metrics.attempt(labels, err instanceof CancelledFailure ? 'cancelled' : 'failed');
          throw err;
        }
      },
    },
  });
}
