/**
 * `cp-sync plan --format json|csv|sql` and `--output`, and `--detailed-exitcode`, through the built CLI against the real
 * services: exact CSV, a JSON document equal to the workflow's plan when nothing is cut, SQL that a DBA runs by hand
 * with the mysql client and that creates the very rows the apply creates, and a 100,000-station plan exported whole
 * with the CLI's peak memory measured.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/domain/exit-codes';
import { applyPlan, POINTS_PER_INSERT } from '../../src/store/applier';
import { createPool } from '../../src/db/pool';
import type { PlanSummary, SyncResult } from '../../src/shared';
import { createdSince, snapshot } from '../support/e2e-assert';
import { expectExit, useCliRunner, type CliRun } from '../support/e2e-cli';
import { serverConfig, type PointRow } from '../support/e2e-db';
import { Publisher, report, useE2e, WINDOW_MS } from '../support/e2e';

const e2e = useE2e('plan-export');

const cli = useCliRunner(e2e, () => ({ TEMPORAL_TASK_QUEUE: e2e.taskQueue, COLLECTOR_DURATION: String(WINDOW_MS) }));

const dir = mkdtempSync(join(tmpdir(), 'cps-plan-export-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});


/** Runs an SQL file as a DBA would: the mysql command-line client, as the server's administrator. */
function runWithMysqlClient(file: string): Promise<void> {
  const server = serverConfig();
  return new Promise((resolve, reject) => {
    const child = execFile(
      'mysql',
      ['--batch', `--host=${server.host}`, `--port=${server.port}`, `--user=${server.user}`],
      { env: { ...process.env, MYSQL_PWD: server.password } },
      (err, _stdout, stderr) => (err ? reject(new Error(`mysql < ${file} failed: ${stderr || err.message}`)) : resolve()),
    );
    child.stdin!.end(readFileSync(file));
  });
}

/** The columns the apply decides, of rows created since `before` (which createdSince checks in full). */
function decided(rows: PointRow[]): Pick<PointRow, 'id' | 'name' | 'point_id' | 'station_id'>[] {
  return rows.map(({ id, name, point_id, station_id }) => ({ id, name, point_id, station_id })).sort((a, b) => a.id.localeCompare(b.id));
}

describe('cp-sync plan --format', () => {
  test(
    'csv and json list the plan exactly; sql run by hand with the mysql client creates the rows the apply creates',
    async () => {
      const { db } = e2e;
      const quoted = await db.station({ station_id: 'PX-A', name: `O'Brien "Depot", Bay\\1 – Zürich` });
      await db.point(quoted, 1);
      const surplus = await db.station({ station_id: 'PX-B', name: 'Surplus' });
      for (const pointId of [1, 2, 3, 4]) await db.point(surplus, pointId);
      const gone = await db.station({ station_id: 'PX-C', name: 'Gone' });
      const raced = await db.station({ station_id: 'PX-D', name: 'Raced' });
      const handle = await e2e.collect(
        e2e.account(),
        [report('PX-A', 3), report('PX-B', 2), report('PX-C', 2), report('PX-D', 2), report('PX-NOBODY', 1)],
        { dryRun: true },
      );
      const status = await e2e.waitForPhase(handle, 'dry-run');
      const workflowId = handle.workflowId;
      const runId = handle.firstExecutionRunId;

      const csv = await cli.run(['plan', workflowId, '--format', 'csv']);
      expectExit(csv, 0);
      expect(csv.stdout).toBe(
        [
          'station,station id,device,expected,live,missing,surplus,skipped',
          `"O'Brien ""Depot"", Bay\\1 – Zürich",${quoted.id},PX-A,3,1,"2,3",,false`,
          `Surplus,${surplus.id},PX-B,2,4,,"3,4",false`,
          `Gone,${gone.id},PX-C,2,0,"1,2",,false`,
          `Raced,${raced.id},PX-D,2,0,"1,2",,false`,
          ',,PX-NOBODY,1,,,,false',
          '',
        ].join('\n'),
      );

      // Nothing is cut in a small plan: the document is the workflow's plan, plus the run id.
      const json = await cli.json<PlanSummary & { workflowId: string; runId: string }>(['plan', workflowId]);
      expectExit(json.run, 0);
      expect(json.value).toEqual({ workflowId, runId, phase: 'dry-run', ...status.plan });
      const longForm = await cli.run(['plan', workflowId, '--format', 'json']);
      expect(JSON.parse(longForm.stdout)).toEqual(json.value);

      // Between the plan and the export, a station is deleted and a planned point appears: left out, as the apply would.
      await db.pool.query('UPDATE charging_stations SET deleted = UTC_TIMESTAMP() WHERE id = ?', [gone.id]);
      await db.point(raced, 1);
      const file = join(dir, 'plan.sql');
      const sql = await cli.run(['plan', workflowId, '--format', 'sql', '--output', file]);
      expectExit(sql, 0);
      expect(sql.stdout).toBe('');
      expect(readdirSync(dir)).toEqual(['plan.sql']);
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/^-- cp-sync plan .* --format sql\n/);
      expect(text).toContain('re-checks every station and point under lock');
      expect(text.match(/^(START TRANSACTION|COMMIT);$/gm)).toEqual(['START TRANSACTION;', 'COMMIT;']);
      expect(text).toContain('-- 3 charging points on 2 stations; 1 planned points exist by now and 1 planned stations were deleted since the plan');

      const beforeByHand = await snapshot(db);
      await runWithMysqlClient(file);
      const byHandIds = [...(await createdSince(db, beforeByHand)).entries()];
      expect(byHandIds).toEqual([
        [quoted.id, [2, 3]],
        [raced.id, [2]],
      ]);
      const old = new Set(beforeByHand.points.map((p) => p.id));
      const byHand = decided((await db.allPoints()).filter((p) => !old.has(p.id)));
      await db.pool.query(`DELETE FROM charging_points WHERE id IN (?)`, [byHand.map((p) => p.id)]);

      const pool = createPool(db.config, 2);
      try {
        const applied = await applyPlan({ pool, tables: db.tables }, { runKey: runId, fingerprint: status.plan!.fingerprint });
        expect(applied).toMatchObject({ created: 3, stationsChanged: 2, alreadyPresent: 1, stationsGone: 1 });
      } finally {
        await pool.end();
      }
      await createdSince(db, beforeByHand);
      expect(decided((await db.allPoints()).filter((p) => !old.has(p.id)))).toEqual(byHand);

      // Once applied, the apply would write nothing more, and the export says so.
      const after = await cli.run(['plan', workflowId, '--format', 'sql']);
      expectExit(after, 0);
      expect(after.stdout).toMatch(/This run was applied at .*: the apply would insert nothing more\.\nSTART TRANSACTION;\nCOMMIT;\n$/);
      expect(after.stdout).not.toMatch(/^INSERT/m);

      // An output that cannot be written names its path, exits 1 and leaves nothing behind.
      const missingDir = join(dir, 'no-such-dir', 'plan.csv');
      const failed = await cli.run(['plan', workflowId, '--format', 'csv', '--output', missingDir]);
      expectExit(failed, EXIT.failed);
      expect(failed.stderr).toContain(`--output ${missingDir}: `);
      expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);

      const contradiction = await cli.run(['plan', workflowId, '--json', '--format', 'csv']);
      expectExit(contradiction, EXIT.usage);
      for (const secret of e2e.secrets) expect(cli.allOutput()).not.toContain(secret);
    },
    90_000,
  );

  test(
    'a plan of 100,000 stations is exported whole in every format, with the CLI holding far less than the document in memory',
    async () => {
      const { db } = e2e;
      const STATIONS = 100_000;
      const UNKNOWN = 1_000;
      const FIRST_PK = 6_000_000_000_000;
      const name = (i: number): string => `Large fleet station ${i} – ${'x'.repeat(60)}`;
      for (let start = 0; start < STATIONS; start += 5_000) {
        const rows = Array.from({ length: Math.min(5_000, STATIONS - start) }, (_, k) => [FIRST_PK + start + k, name(start + k), `BIG-${start + k}`]);
        await db.pool.query('INSERT INTO charging_stations (id, name, station_id) VALUES ?', [rows]);
      }
      // The window hears nothing over MQTT; its devices are written straight into the run's observations meanwhile.
      const handle = await e2e.start({ account: e2e.account(), dryRun: true, collectorDurationMs: 20_000 });
      const runKey = handle.firstExecutionRunId;
      const devices = [...Array.from({ length: STATIONS }, (_, i) => `BIG-${i}`), ...Array.from({ length: UNKNOWN }, (_, i) => `BIG-UNKNOWN-${i}`)];
      for (let start = 0; start < devices.length; start += 5_000) {
        const rows = devices.slice(start, start + 5_000).map((device) => [runKey, device, device.replace(/-/g, ''), 3]);
        await db.pool.query(`INSERT INTO ${db.tables.observations} (run_key, device_id, device_plain, connectors) VALUES ?`, [rows]);
      }
      const status = await e2e.waitForPhase(handle, 'dry-run', 180_000);
      expect(status.plan).toMatchObject({ processedDevices: STATIONS + UNKNOWN, stationsToChange: STATIONS, pointsToCreate: 3 * STATIONS, notFound: UNKNOWN, truncated: true });
      const workflowId = handle.workflowId;

      // The table is the workflow's summary: it says how much it leaves out and how to get it all.
      const table = await cli.runMeasured(['plan', workflowId], {}, 60_000);
      expectExit(table, 0);
      expect(table.stdout).toContain(`  … and ${STATIONS - 200} more stations with missing points: cp-sync plan ${workflowId} --format csv`);
      expect(table.stdout).toContain(`  … and ${UNKNOWN - 200} more: cp-sync plan ${workflowId} --format csv`);

      const exported: Record<string, { bytes: number; peakRssKiB: number }> = {};
      for (const format of ['csv', 'json', 'sql']) {
        const file = join(dir, `big.${format}`);
        const run = await cli.runMeasured(['plan', workflowId, '--format', format, '--output', file], {}, 180_000);
        expectExit(run, 0);
        const text = readFileSync(file, 'utf8');
        exported[format] = { bytes: Buffer.byteLength(text), peakRssKiB: run.peakRssKiB };
        if (format === 'csv') {
          const lines = text.split('\n');
          expect(lines).toHaveLength(1 + STATIONS + UNKNOWN + 1);
          expect(lines[1]).toBe(`${name(0)},${FIRST_PK},BIG-0,3,0,"1,2,3",,false`);
          expect(lines[STATIONS]).toBe(`${name(STATIONS - 1)},${FIRST_PK + STATIONS - 1},BIG-${STATIONS - 1},3,0,"1,2,3",,false`);
        } else if (format === 'json') {
          const document = JSON.parse(text) as PlanSummary;
          expect(document.stations).toHaveLength(STATIONS);
          expect(new Set(document.stations.map((s) => s.stationPk)).size).toBe(STATIONS);
          expect(document.notFoundDeviceIds).toHaveLength(UNKNOWN);
          expect(document).toMatchObject({ pointsToCreate: 3 * STATIONS, truncated: false });
        } else {
          expect(text.match(/^ {2}\(\d+, /gm)).toHaveLength(3 * STATIONS);
          // The apply's INSERT size: 300,000 points in 60 statements.
          expect(text.match(/^INSERT INTO /gm)).toHaveLength(Math.ceil((3 * STATIONS) / POINTS_PER_INSERT));
          expect(text).toContain(`-- ${3 * STATIONS} charging points on ${STATIONS} stations`);
        }
      }
      // Holding the rows would take at least the document's size (a string of it is one byte per character in V8, parsed
      // rows far more). Measured here: the exports peak 11-16 MiB above the table (the summary only), whether the
      // document is 13 MiB (csv) or 39 MiB (sql): buffers and young garbage, flat in the plan's size. The bound is below
      // the size of the json and sql documents, so a CLI that collected either before writing it fails.
      const bound = 24 * 2 ** 20;
      const baselineKiB = table.peakRssKiB;
      console.log(`plan export of ${STATIONS} stations: peak RSS KiB and document bytes ${JSON.stringify({ table: baselineKiB, ...exported })}`);
      expect(Math.min(exported.json!.bytes, exported.sql!.bytes)).toBeGreaterThan(bound);
      for (const { peakRssKiB } of Object.values(exported)) expect((peakRssKiB - baselineKiB) * 1024).toBeLessThan(bound);
    },
    400_000,
  );

  test(
    '--detailed-exitcode: start --dry-run --wait exits 8 when points would be created, run --dry-run exits 0 when none would',
    async () => {
      const { db } = e2e;
      const complete = await db.station({ station_id: 'DX-FULL' });
      await db.point(complete, 1);
      await db.station({ station_id: 'DX-MISSING' });

      expectExit(await cli.run(['start', '--dry-run', '--detailed-exitcode']), EXIT.usage);
      expectExit(await cli.run(['run', '--detailed-exitcode', '--yes']), EXIT.usage);

      const withWork = e2e.account();
      const publisher = await Publisher.start(withWork, [report('DX-FULL', 1), report('DX-MISSING', 2)]);
      let detailed: CliRun;
      let plain: CliRun;
      try {
        detailed = await cli.run(['start', '--dry-run', '--wait', '--detailed-exitcode', '--account', withWork, '--id', e2e.workflowId('detailed')], {}, 60_000);
        plain = await cli.run(['start', '--dry-run', '--wait', '--json', '--account', withWork, '--id', e2e.workflowId('plain')], {}, 60_000);
      } finally {
        await publisher.stop();
      }
      expectExit(detailed, EXIT.changesPending);
      expect(detailed.stdout).toContain('=== Dry run ===');
      // What would be created, as `plan` shows it, instead of a count of nothing created.
      expect(detailed.stdout).toMatch(/^Plan [0-9a-f]{16}: 2 points to create on 1 stations$/m);
      expect(detailed.stdout).toMatch(/^ +STATION +ID +DEVICE +EXPECTED/m);
      expect(detailed.stdout).not.toContain('Total charging points created: 0');
      expectExit(plain, EXIT.ok);
      expect(JSON.parse(plain.stdout)).toMatchObject({ workflowId: expect.any(String), runId: expect.any(String), phase: 'dry-run', plan: { pointsToCreate: 2 } });

      const nothing = e2e.account();
      const quiet = await Publisher.start(nothing, [report('DX-FULL', 1)]);
      let none: CliRun;
      try {
        none = await cli.run(['run', '--dry-run', '--detailed-exitcode', '--json', '--account', nothing, '--id', e2e.workflowId('none')], {}, 60_000);
      } finally {
        await quiet.stop();
      }
      expectExit(none, EXIT.ok);
      expect((JSON.parse(none.stdout) as SyncResult).phase).toBe('nothing-to-do');

      // Issue 13: an account nobody publishes on heard nothing: exit 9 even with --detailed-exitcode, the WARN, the phase in list.
      const typoId = e2e.workflowId('typo');
      const typo = await cli.run(['start', '--account', `${nothing}-typo`, '--duration', '3s', '--dry-run', '--wait', '--detailed-exitcode', '--id', typoId], {}, 60_000);
      expectExit(typo, EXIT.heardNothing);
      expect(typo.stdout).toMatch(/WARN Heard nothing: .*--account .*-typo.*CLOUD_HOST.*topic filter/);
      let listedPhase: string | undefined;
      // Visibility follows the run within moments.
      for (let i = 0; i < 20 && listedPhase !== 'heard-nothing'; i++) {
        const listed = await cli.run(['list', '--json', '--limit', '100'], {}, 30_000);
        listedPhase = (JSON.parse(listed.stdout) as { workflowId: string; phase: string }[]).find((r) => r.workflowId === typoId)?.phase;
        if (listedPhase !== 'heard-nothing') await new Promise((resolveWait) => setTimeout(resolveWait, 500));
      }
      expect(listedPhase).toBe('heard-nothing');
    },
    180_000,
  );
});
