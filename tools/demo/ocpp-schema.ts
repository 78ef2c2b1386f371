/** Creates the two ocpp-db tables (sql/ocpp-schema.sql) when absent: for the demo and the tests, never production. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { DatabaseConfig } from '../../src/config';
import { sslOptions } from '../../src/db/pool';
import { repoRoot } from '../repo-root';

export const OCPP_SCHEMA_FILE = join(repoRoot(), 'sql', 'ocpp-schema.sql');

export function schemaStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}

/** Creates the database (if the user may) and the tables that are missing; existing tables are left as they are. */
export async function createOcppSchema(config: DatabaseConfig): Promise<void> {
  const connection = await mysql.createConnection({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    ssl: sslOptions(config.tls),
  });
  try {
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${config.database}\` CHARACTER SET utf8mb4`);
    await connection.query(`USE \`${config.database}\``);
    for (const statement of schemaStatements(readFileSync(OCPP_SCHEMA_FILE, 'utf8'))) await connection.query(statement);
  } finally {
    await connection.end();
  }
}
