/**
 * The versioned migrations of the tool's own schema (CP_SYNC_DATABASE). `cp-sync migrate` is the only command that
 * runs them, and the only one that runs DDL; the worker and the CLI only check the recorded version.
 *
 * Rules: a migration is never edited once released (add a new one); every statement is idempotent
 * (`IF NOT EXISTS`, `INSERT IGNORE`), so that a migration interrupted half-way can simply run again.
 *
 * Device ids are printable ASCII (domain/message): stored as `ascii_bin`, so two ids that differ in case stay two
 * devices, whatever collation ocpp-db uses. Comparisons with ocpp-db's columns convert explicitly (ocpp-layout.ts).
 */
import type { Tables } from './tables';

export interface Migration {
  version: number;
  description: string;
  statements: (tables: Tables) => string[];
}

const RUN_KEY = 'run_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL';
const DEVICE_ID = 'VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL';
const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/** One table of the tool's schema: its columns and keys, with the options every table of the tool has. */
function createTable(table: string, definitions: readonly string[]): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (\n        ${definitions.join(',\n        ')}\n      ) ${TABLE_OPTIONS}`;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "the tool's tables: runs, observations, rejections, plan, not found, silent stations, ambiguities, apply lock",
    statements: (t) => [
      createTable(t.runs, [
        `${RUN_KEY} PRIMARY KEY`,
        'workflow_id VARCHAR(255) NOT NULL',
        'messages BIGINT UNSIGNED NOT NULL DEFAULT 0',
        'rejected BIGINT UNSIGNED NOT NULL DEFAULT 0',
        'started DATETIME NOT NULL',
        'broker_dropped_start BIGINT UNSIGNED NULL',
        'broker_dropped_end BIGINT UNSIGNED NULL',
        'applied DATETIME NULL',
        'applied_fingerprint VARCHAR(32) NULL',
        'created_points INT UNSIGNED NULL',
        'stations_changed INT UNSIGNED NULL',
        'already_present INT UNSIGNED NULL',
        'stations_gone INT UNSIGNED NULL',
        'KEY cp_sync_runs_started (started)',
      ]),
      createTable(t.observations, [RUN_KEY, `device_id ${DEVICE_ID}`, `device_plain ${DEVICE_ID}`, 'connectors SMALLINT UNSIGNED NOT NULL', 'PRIMARY KEY (run_key, device_id)']),
      createTable(t.rejections, [
        RUN_KEY,
        'seq INT UNSIGNED NOT NULL',
        'topic VARCHAR(512) NOT NULL',
        'payload VARCHAR(512) NOT NULL',
        'reason VARCHAR(255) NOT NULL',
        'PRIMARY KEY (run_key, seq)',
      ]),
      createTable(t.planStations, [
        RUN_KEY,
        'station_pk BIGINT UNSIGNED NOT NULL',
        `device_id ${DEVICE_ID}`,
        'station_id VARCHAR(255) NOT NULL',
        'station_name VARCHAR(255) NOT NULL',
        'expected SMALLINT UNSIGNED NOT NULL',
        'live_points INT UNSIGNED NOT NULL',
        'missing TEXT NOT NULL',
        'surplus TEXT NOT NULL',
        'skipped TINYINT(1) NOT NULL',
        'PRIMARY KEY (run_key, station_pk)',
      ]),
      createTable(t.notFound, [RUN_KEY, `device_id ${DEVICE_ID}`, 'connectors SMALLINT UNSIGNED NOT NULL', 'PRIMARY KEY (run_key, device_id)']),
      createTable(t.silentStations, [
        RUN_KEY,
        'station_pk BIGINT UNSIGNED NOT NULL',
        'station_id VARCHAR(255) NOT NULL',
        'station_name VARCHAR(255) NOT NULL',
        'PRIMARY KEY (run_key, station_pk)',
      ]),
      createTable(t.ambiguities, [
        RUN_KEY,
        `device_id ${DEVICE_ID}`,
        'station_pk BIGINT UNSIGNED NOT NULL',
        'station_id VARCHAR(255) NOT NULL',
        'other_station_pk BIGINT UNSIGNED NOT NULL',
        'other_station_id VARCHAR(255) NOT NULL',
        'PRIMARY KEY (run_key, device_id)',
      ]),
      // One row that every apply locks first: applies of any run against this ocpp-db take turns, so two of them never
      // race for the same new ids or connectors, and the locking reads of ocpp-db can be shared (SELECT privilege only).
      createTable(t.locks, ['name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY']),
      `INSERT IGNORE INTO ${t.locks} (name) VALUES ('apply')`,
    ],
  },
  {
    version: 2,
    description: "the watch's devices: one row per device and watch (highest count, first and last heard, the cycle that planned it)",
    statements: (t) => [
      // Bounded by the fleet: the collectors upsert one row per device, never one per message. `pending` marks a device
      // that appeared or whose count rose since a cycle last planned it (or that had no station then and was heard again);
      // a cycle claims those (pending = 0, planned_cycle = its number), both through the indexes below.
      `CREATE TABLE IF NOT EXISTS ${t.watchDevices} (
        watch_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        device_id ${DEVICE_ID},
        device_plain ${DEVICE_ID},
        connectors SMALLINT UNSIGNED NOT NULL,
        first_heard DATETIME NOT NULL,
        last_heard DATETIME NOT NULL,
        pending TINYINT(1) NOT NULL DEFAULT 1,
        planned_cycle BIGINT UNSIGNED NOT NULL DEFAULT 0,
        no_station TINYINT(1) NOT NULL DEFAULT 0,
        PRIMARY KEY (watch_key, device_id),
        KEY cp_sync_watch_devices_pending (watch_key, pending),
        KEY cp_sync_watch_devices_cycle (watch_key, planned_cycle)
      ) ${TABLE_OPTIONS}`,
    ],
  },
  {
    version: 3,
    description: "the windowed sync's plan built during its window: each device's match, the devices to plan, the run's snapshot",
    statements: (t) => [
      // One row per run: when the run's snapshot of the live stations was taken, how many there were, and whether the
      // plan at window close has taken over (`closed`) or the planning during the window gave up (`abandoned`).
      createTable(t.windowState, [
        `${RUN_KEY} PRIMARY KEY`,
        'snapshot_at DATETIME NULL',
        'stations INT UNSIGNED NULL',
        'closed TINYINT(1) NOT NULL DEFAULT 0',
        'abandoned TINYINT(1) NOT NULL DEFAULT 0',
      ]),
      // Each device as it was last planned: its count then, and the station its id (or undashed id) names.
      createTable(t.windowDevices, [
        RUN_KEY,
        `device_id ${DEVICE_ID}`,
        'connectors SMALLINT UNSIGNED NOT NULL',
        'station_pk BIGINT UNSIGNED NULL',
        'other_station_pk BIGINT UNSIGNED NULL',
        'other_station_id VARCHAR(255) NULL',
        'PRIMARY KEY (run_key, device_id)',
        'KEY cp_sync_window_devices_station (run_key, station_pk)',
      ]),
      // The devices heard (new, or again) since they were last planned, with the highest count heard meanwhile.
      createTable(t.windowDirty, [RUN_KEY, `device_id ${DEVICE_ID}`, 'connectors SMALLINT UNSIGNED NOT NULL', 'PRIMARY KEY (run_key, device_id)']),
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS.reduce((highest, m) => Math.max(highest, m.version), 0);

/** The table that records which migrations ran; created before the first one. */
export function migrationsTableStatement(t: Tables): string {
  return createTable(t.migrations, ['version INT UNSIGNED NOT NULL PRIMARY KEY', 'description VARCHAR(255) NOT NULL', 'applied DATETIME NOT NULL']);
}
