/** A Temporal MetricMeter for unit tests: it keeps every value it is given, in order, with its labels. */
import type { MetricMeter, MetricTags } from '@temporalio/common';

export interface Recorded {
  name: string;
  value: number;
  tags: MetricTags;
}

/** A meter that keeps every value it is given, in order. */
export function recordingMeter(): { meter: MetricMeter; recorded: Recorded[]; last: (name: string, tags?: MetricTags) => number | undefined } {
  const recorded: Recorded[] = [];
  const metric = (name: string) => {
    const keep = (value: number, tags: MetricTags = {}): void => void recorded.push({ name, value, tags });
    return { name, kind: 'x', valueType: 'float', unit: undefined, description: undefined, add: keep, record: keep, set: keep, withTags: () => metric(name) };
  };
  const meter = { createCounter: metric, createHistogram: metric, createGauge: metric, withTags: () => meter } as unknown as MetricMeter;
  const last = (name: string, tags: MetricTags = {}): number | undefined =>
    recorded.filter((r) => r.name === name && Object.entries(tags).every(([k, v]) => r.tags[k] === v)).at(-1)?.value;
  return { meter, recorded, last };
}
