/**
 * The tool's own tables, beside ocpp-db's: the collected counts, the plan and the record of each run live here
 * and only a reference (the run key) and a summary travel through Temporal (the claim-check pattern).
 * Created by the worker at start-up when absent; never altered.
 */
import type { Pool } from './pool';

/**
 * Device ids are compared with charging_stations.station_id in SQL, so they take that column's character set
 * and collation (whatever the backend chose) to avoid "Illegal mix of collations".
 */
async function stationIdCollation(pool: Pool): Promise<{ charset: string; collation: string }> {
  const [rows] = await pool.query<import('mysql2').RowDataPacket[]>(
    `SELECT CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'charging_stations' AND COLUMN_NAME = 'station_id'`,
  );
  const row = rows[0];
  if (!row) {
    throw new Error('table charging_stations (with a station_id column) not found in OCPP_MYSQL_DATABASE; is it the ocpp-db database?');
  }
  return { charset: String(row.charset), collation: String(row.collation) };
}

export async function ensureSyncTables(pool: Pool): Promise<void> {
  const { charset, collation } = await stationIdCollation(pool);
  if (!/^\w+$/.test(charset) || !/^\w+$/.test(collation)) throw new Error(`unexpected collation ${charset}/${collation}`);
  const deviceId = `VARCHAR(128) CHARACTER SET ${charset} COLLATE ${collation} NOT NULL`;
  const statements = [
    `CREATE TABLE IF NOT EXISTS cp_sync_runs (
      run_key VARCHAR(64) NOT NULL PRIMARY KEY,
      workflow_id VARCHAR(255) NOT NULL,
      messages BIGINT UNSIGNED NOT NULL DEFAULT 0,
      rejected BIGINT UNSIGNED NOT NULL DEFAULT 0,
      started DATETIME NOT NULL,
      applied DATETIME NULL,
      applied_fingerprint VARCHAR(32) NULL,
      created_points INT UNSIGNED NULL,
      stations_changed INT UNSIGNED NULL,
      already_present INT UNSIGNED NULL,
      stations_gone INT UNSIGNED NULL,
      broker_dropped_start BIGINT UNSIGNED NULL,
      broker_dropped_end BIGINT UNSIGNED NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    `CREATE TABLE IF NOT EXISTS cp_sync_observations (
      run_key VARCHAR(64) NOT NULL,
      device_id ${deviceId},
      device_plain ${deviceId},
      connectors SMALLINT UNSIGNED NOT NULL,
      PRIMARY KEY (run_key, device_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=${charset} COLLATE=${collation}`,
    `CREATE TABLE IF NOT EXISTS cp_sync_rejections (
      run_key VARCHAR(64) NOT NULL,
      seq INT UNSIGNED NOT NULL,
      topic VARCHAR(512) NOT NULL,
      payload VARCHAR(512) NOT NULL,
      reason VARCHAR(255) NOT NULL,
      PRIMARY KEY (run_key, seq)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    `CREATE TABLE IF NOT EXISTS cp_sync_plan_stations (
      run_key VARCHAR(64) NOT NULL,
      station_pk BIGINT UNSIGNED NOT NULL,
      device_id ${deviceId},
      station_id VARCHAR(255) NOT NULL,
      station_name VARCHAR(255) NOT NULL,
      expected SMALLINT UNSIGNED NOT NULL,
      live_points INT UNSIGNED NOT NULL,
      missing TEXT NOT NULL,
      surplus TEXT NOT NULL,
      skipped TINYINT(1) NOT NULL,
      PRIMARY KEY (run_key, station_pk)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    `CREATE TABLE IF NOT EXISTS cp_sync_not_found (
      run_key VARCHAR(64) NOT NULL,
      device_id ${deviceId},
      connectors SMALLINT UNSIGNED NOT NULL,
      PRIMARY KEY (run_key, device_id)
    ) ENGINE=InnoDB DEFAULT CHARSET=${charset} COLLATE=${collation}`,
  ];
  for (const sql of statements) await pool.query(sql);
}
