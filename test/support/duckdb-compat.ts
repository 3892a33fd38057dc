/**
 * Runs the decision queries (Athena engine v3 / Trino SQL) on DuckDB in the tests. The
 * SQL files stay pure Trino; the few Trino functions DuckDB spells differently are
 * DuckDB macros with the Trino name and signature, so no query text is rewritten:
 *
 * | Trino                              | DuckDB macro body                                  |
 * |------------------------------------|----------------------------------------------------|
 * | approx_percentile(x, p)            | quantile_disc(x, p): a value of the data, nearest rank, as Trino's approximation returns |
 * | date_add('day', n, d)              | CAST(d AS DATE) + n (other units fail loudly)      |
 * | from_iso8601_timestamp(s)          | CAST(s AS TIMESTAMPTZ) (session time zone UTC)     |
 * | count_if(b)                        | count(CASE WHEN b THEN 1 END): DuckDB's own count_if returns NULL, not 0, when every b is NULL |
 *
 * Shared spellings the queries rely on (no macro needed): contains(array, x),
 * starts_with, concat_ws (skips NULLs in both), `||`, CAST(... AS varchar/double/date),
 * date_trunc, CROSS JOIN UNNEST(a) AS t (c), GROUPING SETS with grouping(), VALUES with
 * ARRAY[...], row_number() OVER, IS DISTINCT FROM, NULLIF, NULLS FIRST.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { buildSampleEvents, writeEventsParquet } from './sample-events';

/** The Trino functions DuckDB lacks, as macros with the Trino signature. */
export const TRINO_COMPAT_MACROS: readonly string[] = [
  'CREATE OR REPLACE MACRO approx_percentile(x, p) AS quantile_disc(x, p)',
  "CREATE OR REPLACE MACRO date_add(unit, n, d) AS CASE WHEN unit = 'day' THEN CAST(d AS DATE) + CAST(n AS INTEGER) ELSE error('date_add compat: only the day unit is mapped') END",
  'CREATE OR REPLACE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)',
  'CREATE OR REPLACE MACRO count_if(b) AS count(CASE WHEN b THEN 1 END)',
];

/** A DuckDB database with an `events` view over the Parquet layout that Athena reads. */
export interface EventsDb {
  readonly connection: DuckDBConnection;
  /** Runs one statement and returns its rows as JSON-friendly objects (BIGINT and DECIMAL as strings). */
  rows(sql: string): Promise<Record<string, unknown>[]>;
  close(): void;
}

/**
 * Opens an in-memory DuckDB, installs the Trino macros and creates the view `events` over
 * `<dataDir>/events/event_type=<t>/dt=<d>/*.parquet` with the partition columns as
 * strings (as Glue declares them; DuckDB would otherwise guess `dt` is a DATE).
 */
export async function openEventsDb(dataDir: string): Promise<EventsDb> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  for (const m of TRINO_COMPAT_MACROS) await connection.run(m);
  const glob = `${dataDir.replace(/'/g, "''")}/events/*/*/*.parquet`;
  await connection.run(
    `CREATE VIEW events AS SELECT * FROM read_parquet('${glob}', hive_partitioning = true, hive_types = {'event_type': VARCHAR, 'dt': VARCHAR})`,
  );
  return {
    connection,
    async rows(sql) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** The sample events written as a partitioned Parquet lake in a temporary folder and opened as `EventsDb`; `close()` also removes the folder. */
export interface SampleLake {
  readonly dir: string;
  readonly files: string[];
  readonly db: EventsDb;
  close(): void;
}

export async function openSampleLake(prefix: string): Promise<SampleLake> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const writer = await DuckDBInstance.create(':memory:');
  const conn = await writer.connect();
  const files = await writeEventsParquet(conn, buildSampleEvents().events, dir);
  conn.closeSync();
  writer.closeSync();
  const db = await openEventsDb(dir);
  return {
    dir,
    files,
    db,
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
