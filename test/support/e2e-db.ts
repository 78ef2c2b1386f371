/**
 * The database side of the end-to-end harness: two throw-away databases per test file on the real MySQL-compatible
 * server, created as root: ocpp-db's tables (sql/ocpp-schema.sql through createOcppSchema, or a variant of its layout:
 * another collation, an integer charging_points.station_id) and the tool's own schema (`<name>_tool`, made by
 * `migrate`, the code of `cp-sync migrate`). Builders for stations and points with overrides, and readers for the
 * assertions. Plain mysql2 here, never the code under test's data layer.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mysql, { type Connection, type Pool, type RowDataPacket } from 'mysql2/promise';
import type { DatabaseConfig } from '../../src/config';
import { migrate } from '../../src/db/migrator';
import { createOcppSchema, OCPP_SCHEMA_FILE, schemaStatements } from '../../tools/demo/ocpp-schema';
import { sslOptions } from '../../src/db/pool';
import { tablesFor, type Tables } from '../../src/db/tables';

/** How ocpp-db's tables are laid out: the demo schema's by default, or as some production installations have them. */
export interface OcppTableLayout {
  /** Character set and collation of both tables (e.g. latin1 / latin1_swedish_ci). */
  charset?: string;
  collation?: string;
  /** charging_points.station_id as BIGINT UNSIGNED instead of VARCHAR. */
  integerPointStationId?: boolean;
}

/** sql/ocpp-schema.sql with another table collation and/or an integer charging_points.station_id. */
export function ocppSchemaVariant(layout: OcppTableLayout): string[] {
  return schemaStatements(readFileSync(OCPP_SCHEMA_FILE, 'utf8')).map((statement) => {
    let sql = statement;
    if (layout.charset) sql = sql.replace('DEFAULT CHARSET=utf8mb4', `DEFAULT CHARSET=${layout.charset}${layout.collation ? ` COLLATE=${layout.collation}` : ''}`);
    if (layout.integerPointStationId && sql.includes('CREATE TABLE IF NOT EXISTS charging_points')) {
      sql = sql.replace(/station_id VARCHAR\(255\) NOT NULL/, 'station_id BIGINT UNSIGNED NOT NULL');
    }
    return sql;
  });
}

/** A server and an administrator (root) on it; `tls` as the worker would use it (see DatabaseConfig). */
export type ServerConfig = Omit<DatabaseConfig, 'database' | 'toolDatabase'>;

/** Where the test databases live: OCPP_MYSQL_HOST/PORT/USER/PASSWORD when set, else root on 127.0.0.1:3306. */
export function serverConfig(): ServerConfig {
  return {
    host: process.env.OCPP_MYSQL_HOST || '127.0.0.1',
    port: Number(process.env.OCPP_MYSQL_PORT || 3306),
    user: process.env.OCPP_MYSQL_USER || 'root',
    password: process.env.OCPP_MYSQL_PASSWORD ?? '',
  };
}

/** mysql2 connection options for `server` (with its TLS, if any), optionally on one database. */
export function connectionOptions(server: ServerConfig, database?: string): mysql.ConnectionOptions {
  return { host: server.host, port: server.port, user: server.user, password: server.password, database, ssl: sslOptions(server.tls) };
}

/** A connection as the server's administrator, e.g. to create users. */
export function connectAsAdmin(server: ServerConfig = serverConfig()): Promise<Connection> {
  return mysql.createConnection(connectionOptions(server));
}

export interface StationRow {
  id: string;
  name: string;
  station_id: string;
  status: string | null;
  vendor: string | null;
  model: string | null;
  mqtt_token: string | null;
  longitude: string | null;
  latitude: string | null;
  read_only: number;
  last_heartbeat: Date | null;
  list_version: number | null;
  ocpp_status: string | null;
  created: Date | null;
  updated: Date | null;
  deleted: Date | null;
}

export interface PointRow {
  id: string;
  name: string;
  point_id: number;
  station_id: string;
  latitude: string | null;
  longitude: string | null;
  error_code: string | null;
  connector_status: string | null;
  created: Date | null;
  updated: Date | null;
  deleted: Date | null;
}

/** DATETIME keeps whole seconds; the builders write whole seconds so that rows compare equal when read back. */
function secondsAgo(seconds: number): Date {
  const now = new Date();
  now.setUTCMilliseconds(0);
  return new Date(now.getTime() - seconds * 1000);
}

/**
 * Station keys and point ids are large, like the original tool's 16-digit ids, and unique within the file: they
 * catch ids handled as rounded numbers or as 32-bit integers.
 */
const FIRST_STATION_PK = 4_200_000_000_001n;
const FIRST_POINT_ID = 1_700_000_000_100_001n;

export class E2eDatabase {
  private nextStationPk = FIRST_STATION_PK;
  private nextPointId = FIRST_POINT_ID;

  readonly tables: Tables;

  private constructor(
    readonly config: DatabaseConfig,
    /** For the tests' own reads and writes; the worker has its own pool. */
    readonly pool: Pool,
  ) {
    this.tables = tablesFor(config);
  }

  /**
   * Creates `cps_e2e_<random>` with the ocpp-db tables (in `layout`), and `cps_e2e_<random>_tool` migrated, on `server`
   * (the shared one by default).
   */
  static async create(prefix = 'cps_e2e', { layout, server = serverConfig() }: { layout?: OcppTableLayout; server?: ServerConfig } = {}): Promise<E2eDatabase> {
    const name = `${prefix}_${randomBytes(5).toString('hex')}`;
    const config: DatabaseConfig = { ...server, database: name, toolDatabase: `${name}_tool` };
    if (layout) {
      const root = await connectAsAdmin(server);
      try {
        await root.query(`CREATE DATABASE \`${name}\``);
        await root.query(`USE \`${name}\``);
        for (const statement of ocppSchemaVariant(layout)) await root.query(statement);
      } finally {
        await root.end();
      }
    } else {
      await createOcppSchema(config);
    }
    await migrate(config);
    const pool = mysql.createPool({
      ...connectionOptions(server, config.database),
      connectionLimit: 3,
      supportBigNumbers: true,
      bigNumberStrings: true,
      timezone: 'Z',
      charset: 'utf8mb4',
    });
    return new E2eDatabase(config, pool);
  }

  /** The OCPP_MYSQL_* variables a worker or the CLI needs for this database (OCPP_MYSQL_SSL* too, with TLS). */
  env(): Record<string, string> {
    const { tls } = this.config;
    return {
      OCPP_MYSQL_HOST: this.config.host,
      OCPP_MYSQL_PORT: String(this.config.port),
      OCPP_MYSQL_DATABASE: this.config.database,
      CP_SYNC_DATABASE: this.config.toolDatabase,
      OCPP_MYSQL_USER: this.config.user,
      OCPP_MYSQL_PASSWORD: this.config.password,
      ...(tls && { OCPP_MYSQL_SSL: tls.mode }),
      ...(tls?.caPath !== undefined && { OCPP_MYSQL_SSL_CA_PATH: tls.caPath }),
      ...(tls?.certPath !== undefined && { OCPP_MYSQL_SSL_CERT_PATH: tls.certPath }),
      ...(tls?.keyPath !== undefined && { OCPP_MYSQL_SSL_KEY_PATH: tls.keyPath }),
    };
  }

  async drop(): Promise<void> {
    await this.pool.end().catch(() => undefined);
    const { database, toolDatabase, ...server } = this.config;
    const connection = await connectAsAdmin(server);
    try {
      await connection.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await connection.query(`DROP DATABASE IF EXISTS \`${toolDatabase}\``);
    } finally {
      await connection.end();
    }
  }

  /** Empties the ocpp-db tables (the tool's cp_sync_* tables keep their runs). */
  async clearOcppTables(): Promise<void> {
    await this.pool.query('DELETE FROM charging_points');
    await this.pool.query('DELETE FROM charging_stations');
  }

  /** A live station with every column filled, as the OCPP backend writes them; `overrides` wins. */
  async station(overrides: Partial<StationRow> = {}): Promise<StationRow> {
    const id = (this.nextStationPk++).toString();
    const row: StationRow = {
      id,
      name: `Station ${id}`,
      station_id: `ST-${id}`,
      status: 'Online',
      vendor: 'Alfen',
      model: 'Eve Double Pro',
      mqtt_token: `token-${id}`,
      longitude: '4.895168',
      latitude: '52.370216',
      read_only: 0,
      last_heartbeat: secondsAgo(30),
      list_version: 7,
      ocpp_status: 'Available',
      created: secondsAgo(86_400),
      updated: secondsAgo(3_600),
      deleted: null,
      ...overrides,
    };
    await this.pool.query('INSERT INTO charging_stations SET ?', [row]);
    return row;
  }

  /** `count` stations `<prefix>-1` … `<prefix>-<count>`, named `<prefix> 1` …, in that order. */
  async numberedStations(prefix: string, count: number): Promise<StationRow[]> {
    const rows: StationRow[] = [];
    for (let n = 1; n <= count; n++) rows.push(await this.station({ station_id: `${prefix}-${n}`, name: `${prefix} ${n}` }));
    return rows;
  }

  /** A charging point of `station` with every column filled; `overrides` wins (e.g. `deleted` for a soft-deleted one). */
  async point(station: StationRow, pointId: number, overrides: Partial<PointRow> = {}): Promise<PointRow> {
    const row: PointRow = {
      id: (this.nextPointId++).toString(),
      name: station.name,
      point_id: pointId,
      station_id: station.id,
      latitude: station.latitude,
      longitude: station.longitude,
      error_code: 'NoError',
      connector_status: 'Available',
      created: secondsAgo(86_400),
      updated: secondsAgo(3_600),
      deleted: null,
      ...overrides,
    };
    await this.pool.query('INSERT INTO charging_points SET ?', [row]);
    return row;
  }

  /** Every charging_points row, soft-deleted ones included, by id. */
  async allPoints(): Promise<PointRow[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM charging_points ORDER BY id');
    return rows.map(toPoint);
  }

  /** The station's live points, by point_id. */
  async livePoints(station: StationRow): Promise<PointRow[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM charging_points WHERE station_id = ? AND deleted IS NULL ORDER BY point_id, id', [
      station.id,
    ]);
    return rows.map(toPoint);
  }

  async livePointIds(station: StationRow): Promise<number[]> {
    return (await this.livePoints(station)).map((p) => p.point_id);
  }

  async allStations(): Promise<StationRow[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>('SELECT * FROM charging_stations ORDER BY id');
    return rows.map((r) => ({ ...(r as StationRow), id: String(r.id) }));
  }

  /**
   * A row lock taken by `sql` (a `SELECT … FOR UPDATE`) on a connection of its own, in a transaction, as another writer
   * would hold it, until `release()` (which may be called more than once).
   */
  async holdRowLock(sql: string, params: unknown[]): Promise<{ release: () => Promise<void> }> {
    const connection = await mysql.createConnection(connectionOptions(this.config, this.config.database));
    await connection.beginTransaction();
    await connection.query(sql, params);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        // The server may have gone (a crash test): the lock went with it.
        await connection.rollback().catch(() => undefined);
        await connection.end().catch(() => connection.destroy());
      },
    };
  }

  /** The tool's record of a run (cp_sync_runs), or undefined. */
  async runRecord(runKey: string): Promise<RowDataPacket | undefined> {
    const [rows] = await this.pool.query<RowDataPacket[]>(`SELECT * FROM ${this.tables.runs} WHERE run_key = ?`, [runKey]);
    return rows[0];
  }
}

function toPoint(row: RowDataPacket): PointRow {
  return { ...(row as PointRow), id: String(row.id), station_id: String(row.station_id), point_id: Number(row.point_id) };
}
