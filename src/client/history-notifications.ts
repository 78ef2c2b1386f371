import type { temporal } from '@temporalio/proto';
import { defaultPayloadConverter, fromPayloadsAtIndex } from '@temporalio/common';
import type { NotificationEvent, NotificationOutcome, NotificationRecord } from '../shared';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const at = (event: HistoryEvent): string => (event.eventTime ? new Date(Number(event.eventTime.seconds ?? 0) * 1000).toISOString() : '');

/**
 * The notifications of an ended run, from its history (a failed run has no result to carry them): one record per
 * sendNotification activity, with how it ended. Absent when the run sent none.
 */
export function notificationsFromHistory(events: readonly HistoryEvent[]): NotificationRecord[] | undefined {
  const records = new Map<string, NotificationRecord>();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name === 'sendNotification') {
      const input = fromPayloadsAtIndex<NotificationEvent>(defaultPayloadConverter, 0, scheduled.input?.payloads);
      records.set(String(event.eventId), { event: input.event, state: 'pending', at: at(event) });
    }
    const completed = event.activityTaskCompletedEventAttributes;
    const failed = event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    const record = records.get(String(completed?.scheduledEventId ?? failed?.scheduledEventId));
    if (record && completed) {
      record.state = fromPayloadsAtIndex<NotificationOutcome>(defaultPayloadConverter, 0, completed.result?.payloads).delivery;
      record.at = at(event);
    } else if (record && failed) {
      Object.assign(record, { state: 'failed', error: failed.failure?.message ?? 'unknown error', at: at(event) });
    }
  }
  return records.size > 0 ? [...records.values()] : undefined;
}
