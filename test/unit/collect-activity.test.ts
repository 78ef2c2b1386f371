import { MockActivityEnvironment } from '@temporalio/testing';
import { createCollectActivity } from '../../src/activities/collect';
import type { Pool } from '../../src/db/pool';
import { tablesFor } from '../../src/db/tables';
import type { Log } from '../../src/log';
import { noMetrics } from '../../src/metrics';

/** A pool and a broker that fail the test if touched: the cases below must neither listen nor write. */
const untouchable = new Proxy({}, { get: () => { throw new Error('the database was used'); } }) as Pool;
const mqtt = { url: 'mqtt://127.0.0.1:1', options: {} };

describe('collectConnectorCounts, a retry after its collector was lost', () => {
  it('does not listen when the window closed before it started, and says so', async () => {
    const lines: string[] = [];
    const log: Log = { info: (l) => lines.push(l), debug: () => undefined, warn: (l) => lines.push(l), error: (l) => lines.push(l) };
    const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { messages: 15, devices: 1, rejected: 0 } });
    const collect = createCollectActivity({ pool: untouchable, tables: tablesFor({ database: 'ocpp', toolDatabase: 'cp_sync' }), mqtt, log, metrics: noMetrics });
    const outcome = await env.run(collect, { runKey: 'r1', workflowId: 'w1', maxConnectors: 16, windowEndsAt: new Date(Date.now() - 1000).toISOString() });
    expect(outcome).toEqual({ messages: 15, devices: 1, rejected: 0, windowClosedBeforeRetry: true });
    expect(lines).toEqual([expect.stringMatching(/^The collection window closed before attempt 2 started .*the 15 messages stored until then are used$/)]);
  });
});
