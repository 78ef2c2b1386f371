/**
 * The database crashes (SIGKILL, a private MariaDB: never the shared one) just as an approved plan is applied, and
 * comes back a few seconds later: the apply is retried until it succeeds, creates each missing point once, and the
 * worker never prints the failure lines that operators grep for, since the run did not fail.
 */
import { byStationId, createdSince, snapshot } from '../support/e2e-assert';
import { report, useE2e } from '../support/e2e';
import { start, type PrivateMariadb } from '../support/private-mariadb';

let server: PrivateMariadb | undefined;

// Registered before useE2e's own beforeAll, so the server is up when the harness creates its databases there.
beforeAll(async () => {
  server = await start();
}, 60_000);

const e2e = useE2e('dbrestart', {
  server: () => {
    if (!server) throw new Error('the private MariaDB did not start');
    return { host: server.host, port: server.port, user: server.user, password: server.password };
  },
});

// After the harness's own afterAll (which drops its databases and user on this server).
afterAll(async () => {
  await server?.stop();
}, 30_000);

test('a database crash during the apply is retried until the database is back: every point once, no failure lines', async () => {
  const { db } = e2e;
  const gaps = await db.station({ station_id: 'RESTART-0001', name: 'Gaps' });
  await db.point(gaps, 2);
  const fresh = await db.station({ station_id: 'RESTART-0002', name: 'New' });
  const before = await snapshot(db);

  const handle = await e2e.collect(e2e.account(), [report('RESTART-0001', 3), report('RESTART-0002', 2)]);
  const waiting = await e2e.waitForPhase(handle, 'awaiting-approval');
  expect(waiting.plan).toMatchObject({ pointsToCreate: 4 });

  await server!.crash();
  await e2e.approve(handle, waiting.plan!.fingerprint);
  // Long enough for the first attempts to fail on the dead server (retries back off from 1 s).
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const applying = await e2e.status(handle);
  expect(applying.phase).toBe('applying');
  await server!.restart();

  expect(await handle.result()).toMatchObject({ phase: 'applied', created: 4 });
  expect(byStationId(await createdSince(db, before), [gaps, fresh])).toEqual({ 'RESTART-0001': [1, 3], 'RESTART-0002': [1, 2] });
  const lines = e2e.infoLines();
  expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^Transaction attempt 1 of 20 failed \(.+\), retrying in \d/)]));
  for (const failureLine of ['=== Failed ===', 'No charging points were created']) expect(lines).not.toContain(failureLine);
  expect(lines.some((line) => line.startsWith('✗ Transaction rolled back'))).toBe(false);
  expect(lines).toContain('=== Success ===');
}, 90_000);
