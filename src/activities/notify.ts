import { ApplicationFailure, Context } from '@temporalio/activity';
import { notificationBody } from '../domain/notification';
import type { Log } from '../log';
import { webUiLink } from '../domain/web-ui-link';
import type { NotificationEvent, NotificationOutcome } from '../shared';

export interface NotifyDeps {
  /** NOTIFY_WEBHOOK_URL. Secret (it may carry a token): never logged, never in an error or in history. */
  webhookUrl?: string;
  ui: { uiUrl: string; namespace: string };
  log: Log;
}

/** One attempt's bound, below the workflow's 10 s start-to-close timeout so the attempt reports why it failed. */
const REQUEST_TIMEOUT_MS = 8000;

/** Answers that a retry cannot change: the URL or its token is wrong (408 and 429 are worth another attempt). */
function permanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** Why the request did not get an answer, from the error's code only: fetch's messages may name the URL. */
function unreachable(err: unknown): string {
  // Read by shape, not instanceof: fetch's errors may come from another realm (e.g. a test sandbox).
  const { name, code, cause } = (err ?? {}) as { name?: unknown; code?: unknown; cause?: { code?: unknown } };
  if (name === 'TimeoutError' || name === 'AbortError') return `the webhook did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const reason = cause?.code ?? code;
  return `the webhook could not be reached${typeof reason === 'string' ? ` (${reason})` : ''}`;
}

/**
 * Posts one event to NOTIFY_WEBHOOK_URL. Without the variable it does nothing and says so (`off`). A failed attempt
 * throws for Temporal to retry; the workflow bounds the retries and never lets them hold up the sync.
 */
export function createNotifyActivity({ webhookUrl, ui, log }: NotifyDeps) {
  return async function sendNotification(event: NotificationEvent): Promise<NotificationOutcome> {
    if (webhookUrl === undefined) return { delivery: 'off' };
    const body = notificationBody(event, webUiLink(ui, event.workflowId, event.runId));
    const { attempt } = Context.current().info;
    let response: Response;
    try {
      response = await fetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        redirect: 'error',
      });
      // The answer's body is of no use; reading it frees the connection.
      await response.arrayBuffer().catch(() => undefined);
    } catch (err) {
      const reason = unreachable(err);
      log.error(`Notification ${event.event} of ${event.workflowId}: attempt ${attempt} failed: ${reason}`);
      throw ApplicationFailure.create({ type: 'NotificationFailed', message: reason });
    }
    if (!response.ok) {
      const reason = `the webhook answered HTTP ${response.status}`;
      log.error(`Notification ${event.event} of ${event.workflowId}: attempt ${attempt} failed: ${reason}`);
      throw ApplicationFailure.create({ type: 'NotificationFailed', message: reason, nonRetryable: permanent(response.status) });
    }
    log.info(`Notification ${event.event} of ${event.workflowId} sent`);
    return { delivery: 'sent' };
  };
}
