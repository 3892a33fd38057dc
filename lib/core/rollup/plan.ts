/**
 * Which queries a rollup run executes, for which days, and when its datapoints are
 * stamped. Pure: a schedule and a time in, bound SQL statements out (and their positional
 * form with ExecutionParameters, which the runner sends to Athena).
 *
 * - `hourly` (daily figures, recomputed every hour so late records are counted): for
 *   today (UTC) and yesterday, `active-users` (one run over both days: ActiveUsersDaily
 *   and ActiveUsersWeekly), `cost-per-successful-task` (DailyCostUsd) and `new-intents`
 *   (NewIntents), one run per day because they aggregate over their window.
 *   ActiveUsersWeekly is hourly too: the same query returns it at no extra scan, and the
 *   policy's weekly-active-users alarm evaluates 1-hour periods.
 * - `daily` (weekly figures): `repeat-users` over the 7 complete UTC days ending
 *   yesterday (RepeatUsers).
 *
 * Timestamps: a datapoint is stamped at the start of the period it describes, at the
 * schedule's resolution, so a rerun publishes the same (metric, dimensions, timestamp)
 * and writes the same S3 key: today's figures at the start of the run's hour, yesterday's
 * at 23:00 of yesterday (its last hour: the day's final figure), weekly figures at 00:00
 * of the window's last day.
 */
import {
  bindParameters,
  bindPositional,
  loadDecisionQueries,
  parseQueryFile,
  type DecisionQuery,
  type ParameterValues,
  type PositionalStatement,
} from '../queries';

export const ROLLUP_SCHEDULES = ['hourly', 'daily'] as const;
export type RollupSchedule = (typeof ROLLUP_SCHEDULES)[number];

/** How a query's rows become datapoints (see `metrics.ts`). */
export type RollupMapping = 'active-users' | 'daily-cost' | 'new-intents' | 'repeat-users';

export interface PlannedQuery {
  /** Unique within a run: `<query id>:<start_date>..<end_date>`; names the query in logs and S3. */
  readonly key: string;
  /** The decision query (or rollup query) id: the `Query` dimension of RollupFailures. */
  readonly queryId: string;
  readonly parameters: ParameterValues;
  /** The bound statement (literals substituted): what Athena runs, and what the local plane runs on DuckDB. */
  readonly sql: string;
  /** What Athena is sent: the positional form (`?`) and its ExecutionParameters, which bind to `sql`. */
  readonly statement: PositionalStatement;
  readonly mapping: RollupMapping;
  /** Day (YYYY-MM-DD) to datapoint timestamp, for the days this query reports on. */
  readonly stamps: Readonly<Record<string, Date>>;
}

export interface RollupPlan {
  readonly schedule: RollupSchedule;
  /** The start of the run's hour (hourly) or day (daily), UTC. */
  readonly periodStart: Date;
  readonly queries: readonly PlannedQuery[];
}

/**
 * Users active on 2 or more days of a 7-day window: the RepeatUsers metric. Not a
 * decision query (the catalogue deploys those as named queries); it lives with the
 * rollup and has the same header, checks and parameter binding.
 */
export const REPEAT_USERS_SQL = `-- name: repeat-users
-- decision: Whether the assistant earns a second visit: users active on 2 or more UTC days of the window.
-- bucket: adoption
-- parameters: start_date (date), end_date (date)
--
-- Over the request records of the window (the rollup passes the 7 UTC days ending
-- yesterday): distinct pseudonymized users with a request (weekly_users) and those with
-- requests on 2 or more distinct days (repeat_users). Requests without user_id do not
-- count. One row.
WITH days_per_user AS (
  SELECT user_id, count(DISTINCT dt) AS active_days
  FROM events
  WHERE event_type = 'request'
    AND dt BETWEEN :start_date AND :end_date
    AND user_id IS NOT NULL
  GROUP BY user_id
)
SELECT
  count(*) AS weekly_users,
  count_if(active_days >= 2) AS repeat_users
FROM days_per_user`;

/** The queries a rollup can run, by id: the decision queries it uses plus repeat-users. */
export function loadRollupQueries(): Map<string, DecisionQuery> {
  const wanted = new Set(['active-users', 'cost-per-successful-task', 'new-intents']);
  const out = new Map(
    loadDecisionQueries()
      .filter((q) => wanted.has(q.id))
      .map((q) => [q.id, q]),
  );
  const repeat = parseQueryFile(REPEAT_USERS_SQL, 'lib/rollup/plan.ts');
  out.set(repeat.id, repeat);
  return out;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** YYYY-MM-DD of a time, UTC. */
export const utcDay = (t: Date | number) => new Date(t).toISOString().slice(0, 10);
const dayStart = (day: string) => new Date(`${day}T00:00:00Z`);

/** The plan of one run. `now` is the scheduled time; any time within the hour (or day) gives the same plan. */
export function planRollup(schedule: RollupSchedule, now: Date, queries: Map<string, DecisionQuery> = loadRollupQueries()): RollupPlan {
  if (Number.isNaN(now.getTime())) throw new Error('the rollup time is not a valid date');
  const q = (id: string) => {
    const found = queries.get(id);
    if (!found) throw new Error(`rollup query ${id} not found`);
    return found;
  };
  const plan = (id: string, mapping: RollupMapping, parameters: ParameterValues, stamps: Record<string, Date>): PlannedQuery => ({
    key: `${id}:${parameters.start_date}..${parameters.end_date}`,
    queryId: id,
    parameters,
    sql: bindParameters(q(id), parameters),
    statement: bindPositional(q(id), parameters),
    mapping,
    stamps,
  });

  if (schedule === 'hourly') {
    const periodStart = new Date(Math.floor(now.getTime() / HOUR) * HOUR);
    const today = utcDay(periodStart);
    const yesterday = utcDay(periodStart.getTime() - DAY);
    const stamps = { [today]: periodStart, [yesterday]: new Date(dayStart(yesterday).getTime() + 23 * HOUR) };
    const one = (day: string) => ({ [day]: stamps[day] as Date });
    return {
      schedule,
      periodStart,
      queries: [
        plan('active-users', 'active-users', { start_date: yesterday, end_date: today }, stamps),
        ...[yesterday, today].map((day) => plan('cost-per-successful-task', 'daily-cost', { start_date: day, end_date: day }, one(day))),
        ...[yesterday, today].map((day) => plan('new-intents', 'new-intents', { start_date: day, end_date: day }, one(day))),
      ],
    };
  }
  if (schedule === 'daily') {
    const periodStart = dayStart(utcDay(now));
    const last = utcDay(periodStart.getTime() - DAY);
    const first = utcDay(periodStart.getTime() - 7 * DAY);
    return {
      schedule,
      periodStart,
      queries: [plan('repeat-users', 'repeat-users', { start_date: first, end_date: last }, { [last]: dayStart(last) })],
    };
  }
  throw new Error(`unknown rollup schedule ${JSON.stringify(schedule)}; expected ${ROLLUP_SCHEDULES.join(' or ')}`);
}
