/**
 * The e2e harness's Temporal connection (test/support/tracked-connection.ts) on the real dev server: it knows which
 * calls are in flight until they end, and its close waits for them, so that no SDK retry fires on a closed channel.
 */
import { temporalAddress } from '../support/e2e';
import { connectTracked } from '../support/tracked-connection';

const GET_SYSTEM_INFO = '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo';

test('a call counts as in flight from its start to its end, and close waits for one still running', async () => {
  const tracked = await connectTracked(temporalAddress());
  const service = tracked.connection.workflowService;

  const first = service.getSystemInfo({});
  expect(tracked.inFlight()).toEqual([GET_SYSTEM_INFO]);
  await first;
  expect(tracked.inFlight()).toEqual([]);

  let ended = false;
  const notAwaited = service.getSystemInfo({}).then(() => {
    ended = true;
  });
  await tracked.close();
  expect(ended).toBe(true);
  expect(tracked.inFlight()).toEqual([]);
  await notAwaited;
});
