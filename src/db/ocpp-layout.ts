/**
 * The column types of ocpp-db that the queries compare against, read from information_schema, so that every
 * comparison between strings of different origin names its collation explicitly: whatever collation the backend
 * chose for its tables (utf8mb4_general_ci, utf8mb4_unicode_ci, utf8mb4_0900_ai_ci, latin1_swedish_ci, …), and
 * whatever the connection's default is, no query can fail with "Illegal mix of collations".
 *
 * The rule: the ocpp column stays bare (so its index serves the lookup) and the other side is converted to the
 * column's own character set and collation. Device ids are printable ASCII (domain/message), so the conversion
 * is lossless into any character set. `charging_points.station_id` holds the station's numeric key: as text in
 * the original layout, as an integer in some installations; it is compared in its own type.
 */
import type { RowDataPacket } from 'mysql2';
import type { Pool } from './pool';

/** A string column's character set and collation; `binary` for VARBINARY/BLOB columns. */
export interface TextColumn {
  kind: 'text';
  charset: string;
  collation: string;
}

export interface IntegerColumn {
  kind: 'integer';
}

export interface OcppLayout {
  /** charging_stations.station_id, compared with device ids. */
  stationId: TextColumn;
  /** charging_points.station_id, compared with charging_stations.id. */
  pointStationId: TextColumn | IntegerColumn;
}

export class OcppLayoutError extends Error {
  override readonly name = 'OcppLayoutError';
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
const TEXT_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'binary', 'varbinary']);

/** Charset and collation names go into SQL text: they must be plain identifiers. */
function identifier(name: string): string {
  if (!/^\w{1,64}$/.test(name)) throw new OcppLayoutError(`unexpected character set or collation name ${JSON.stringify(name)}`);
  return name;
}

function column(row: RowDataPacket | undefined, where: string): TextColumn | IntegerColumn {
  if (!row) throw new OcppLayoutError(`column ${where} not found: is OCPP_MYSQL_DATABASE the ocpp-db database, and may OCPP_MYSQL_USER read it?`);
  const type = String(row.data_type).toLowerCase();
  if (INTEGER_TYPES.has(type)) return { kind: 'integer' };
  if (!TEXT_TYPES.has(type)) throw new OcppLayoutError(`column ${where} has type ${type}; expected a string or an integer type`);
  if (row.charset === null || type === 'binary' || type === 'varbinary') return { kind: 'text', charset: 'binary', collation: 'binary' };
  return { kind: 'text', charset: identifier(String(row.charset)), collation: identifier(String(row.collation)) };
}

export async function readOcppLayout(pool: Pool, ocppDatabase: string): Promise<OcppLayout> {
  const [rows] = await pool.query<RowDataPacket[]>(
    `SELECT TABLE_NAME AS table_name, DATA_TYPE AS data_type, CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation
       FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND COLUMN_NAME = 'station_id' AND TABLE_NAME IN ('charging_stations', 'charging_points')`,
    [ocppDatabase],
  );
  const find = (table: string): RowDataPacket | undefined => rows.find((r) => r.table_name === table);
  const stationId = column(find('charging_stations'), `${ocppDatabase}.charging_stations.station_id`);
  if (stationId.kind !== 'text') throw new OcppLayoutError(`column ${ocppDatabase}.charging_stations.station_id is an integer; expected the station's text id`);
  return { stationId, pointStationId: column(find('charging_points'), `${ocppDatabase}.charging_points.station_id`) };
}

/** SQL for `expression` (an ASCII string: a device id) in the character set and collation of `target`. */
export function asText(expression: string, target: TextColumn): string {
  if (target.charset === 'binary') return `CAST(${expression} AS BINARY)`;
  return `CONVERT(${expression} USING ${target.charset}) COLLATE ${target.collation}`;
}

/** SQL for the station key `expression` (an integer column) as charging_points.station_id holds it. */
export function asPointStationId(expression: string, layout: OcppLayout): string {
  const target = layout.pointStationId;
  if (target.kind === 'integer') return expression;
  if (target.charset === 'binary') return `CAST(${expression} AS BINARY)`;
  return `CAST(${expression} AS CHAR CHARACTER SET ${target.charset}) COLLATE ${target.collation}`;
}

/** One-line description for operators (cp-sync migrate, the worker's start-up line). */
export function describeLayout(layout: OcppLayout): string {
  const text = (c: TextColumn): string => (c.charset === 'binary' ? 'binary' : c.collation);
  const points = layout.pointStationId.kind === 'integer' ? 'integer' : text(layout.pointStationId);
  return `charging_stations.station_id ${text(layout.stationId)}, charging_points.station_id ${points}`;
}
