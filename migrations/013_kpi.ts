import type { Knex } from 'knex';

/**
 * Toolroom's KPIs as SQL (issue 11), defined once here and read alike by Grafana (through the read-only
 * role below), core/kpi (pages, REST API, reports) and bench/kpi.ts. The words behind each number are in
 * core/kpi/definitions.ts; the SQL follows them:
 *
 * - every KPI function takes a time range [from, to) and a scope: `by` = 'tool' | 'press' | 'customer' |
 *   'plant' (one row per asset number, press code, customer, or one 'plant' row) and optionally one `subject`
 *   of that scope. Constant arguments fold at planning time (the functions are inlinable SQL), so a
 *   single tool's KPI reads that tool's rows through its indexes.
 * - where a record belongs to a press (a failure, a job of work), it is the press the tool ran on last at
 *   that time (its latest mount started before it).
 *
 * Also: monthly shot totals kept from the readings by triggers (shot_months, so ten-year ranges stay fast),
 * what maintenance cost and took on actions (inspections had both since 003), and each PM's
 * progress through its interval when it was done (`pm_events.percent_at_pm`), which PM compliance needs.
 */

export const READER_ROLE = 'toolroom_reader';

/** The tables the KPIs read; the reader may SELECT these and nothing else (users: only names). */
const READ_TABLES = [
  'tools', 'tool_cavities', 'presses', 'tool_mounts', 'shot_readings', 'shot_months', 'pm_plans', 'pm_events',
  'inspection_templates', 'inspections', 'failure_codes', 'failure_reports', 'actions',
];
const USER_COLUMNS = '(id, username, display_name, role, active)';

const VIEWS = ['kpi_failures'];
const FUNCTIONS = [
  'kpi_reliability(timestamptz, timestamptz, text, text)',
  'kpi_failure_pareto(timestamptz, timestamptz, text, text, text)',
  'kpi_pm_compliance(timestamptz, timestamptz, text, text)',
  'kpi_pm_plans(timestamptz)',
  'kpi_maintenance(timestamptz, timestamptz, text, text)',
  'kpi_utilisation(timestamptz, timestamptz, text, text)',
  'kpi_end_of_life(numeric, timestamptz)',
  'kpi_subject(text, text, text, text)',
];

/** The press a tool last ran on at time `at` (alias `lp`, column press_code), as a lateral join. */
const lastPress = (toolId: string, at: string) => `LEFT JOIN LATERAL (
    SELECT pr.code AS press_code FROM tool_mounts m JOIN presses pr ON pr.id = m.press_id
    WHERE m.tool_id = ${toolId} AND m.mounted_at <= ${at} ORDER BY m.mounted_at DESC LIMIT 1) lp ON true`;

/**
 * The same press, inside the KPI functions: looked up only when the scope is per press (with `p_by`
 * a constant the planner drops the lookup otherwise; plant-wide over 10 years that is 20,000 lookups saved).
 */
const pressAt = (toolId: string, at: string) => `CASE WHEN p_by = 'press' THEN (
    SELECT pr.code FROM tool_mounts m JOIN presses pr ON pr.id = m.press_id
    WHERE m.tool_id = ${toolId} AND m.mounted_at <= ${at} ORDER BY m.mounted_at DESC LIMIT 1) END`;

/**
 * When a failure's repair was over (column repaired_at of alias `r` with the failure `f`): at the last
 * verification when every action not cancelled is verified; without such actions, when it was closed.
 * One grouped pass over the actions (a lookup per failure costs more plant-wide).
 */
const repairs = `LEFT JOIN (SELECT failure_report_id, CASE WHEN bool_and(status = 'verified') THEN max(verified_at) END AS verified_at
      FROM actions WHERE failure_report_id IS NOT NULL AND status <> 'cancelled' GROUP BY 1) rv ON rv.failure_report_id = f.id
    CROSS JOIN LATERAL (SELECT CASE WHEN rv.failure_report_id IS NULL THEN f.closed_at ELSE rv.verified_at END AS repaired_at) r`;

/** The month (UTC) a time falls in, as the time it starts: months in UTC whatever the session's time zone. */
const utcMonth = (at: string) => `(date_trunc('month', ${at} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;
/** The first month boundary at or after p_from, and the last at or before p_to. */
const firstMonth = `(CASE WHEN date_trunc('month', p_from AT TIME ZONE 'UTC') = p_from AT TIME ZONE 'UTC' THEN p_from
    ELSE (date_trunc('month', p_from AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC' END)`;
const lastMonth = utcMonth('p_to');

/**
 * Shots (tool_id, press_id, shots) counted in [p_from, p_to): whole months from the monthly totals
 * (shot_months), the days before the first and after the last whole month from the readings. Ten years
 * plant-wide is then 24,000 monthly rows and a few days of readings instead of 730,000 daily totals.
 */
const shotsInRange = `
    SELECT r.tool_id, r.press_id, r.delta AS shots FROM shot_readings r
    WHERE r.delta > 0 AND r.tool_id IS NOT NULL
      AND ((r.at >= p_from AND r.at < least(${firstMonth}, p_to)) OR (r.at >= greatest(${lastMonth}, ${firstMonth}) AND r.at < p_to))
    UNION ALL
    SELECT m.tool_id, m.press_id, m.shots FROM shot_months m WHERE m.month >= ${firstMonth} AND m.month < ${lastMonth}`;

/** Scope filter on an expression set (asset number, press code, customer). */
const inScope = (asset: string, press: string, customer: string) =>
  `kpi_subject(p_by, ${asset}, ${press}, ${customer}) IS NOT NULL
   AND (p_subject IS NULL OR kpi_subject(p_by, ${asset}, ${press}, ${customer}) = p_subject)`;

/** The same OVERDUE threshold as core/pm/state.ts (OVERDUE_PERCENT); a test checks they agree. */
const OVERDUE = 110;

export async function up(knex: Knex): Promise<void> {
  // Cost and time of a job are entered where the work is recorded: on completing an action.
  await knex.raw(`ALTER TABLE actions
    ADD COLUMN minutes_spent integer,
    ADD COLUMN cost numeric(12,2),
    ADD CONSTRAINT actions_minutes_check CHECK (minutes_spent IS NULL OR minutes_spent >= 0),
    ADD CONSTRAINT actions_cost_check CHECK (cost IS NULL OR cost >= 0)`);
  await knex.raw('CREATE INDEX actions_completed_idx ON actions (completed_at) WHERE completed_at IS NOT NULL');
  await knex.raw('CREATE INDEX shot_readings_at_idx ON shot_readings (at) INCLUDE (tool_id, press_id, delta)');
  await knex.raw('CREATE INDEX pm_events_performed_idx ON pm_events (performed_at)');

  // How far through its interval the plan was when the PM was done (the larger of shots and days, in %),
  // set from the plan's counters as they stand before recordPm resets them (it inserts the event first).
  await knex.raw('ALTER TABLE pm_events ADD COLUMN percent_at_pm numeric(10,1)');
  await knex.raw(`CREATE FUNCTION pm_events_percent_at_pm() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE p pm_plans%ROWTYPE;
    BEGIN
      SELECT * INTO p FROM pm_plans WHERE id = NEW.pm_plan_id;
      NEW.percent_at_pm := round(greatest(
        (NEW.lifetime_shots - p.last_pm_lifetime_shots) * 100.0 / p.interval_shots,
        extract(epoch FROM NEW.performed_at - p.last_pm_at) * 100.0 / (p.interval_days * 86400.0)), 1);
      RETURN NEW;
    END $$`);
  await knex.raw(`CREATE TRIGGER pm_events_percent_at_pm BEFORE INSERT ON pm_events
    FOR EACH ROW EXECUTE FUNCTION pm_events_percent_at_pm()`);
  // Events recorded before: measured from the event before on the same plan (the first one by days since the plan began).
  await knex.raw(`UPDATE pm_events e SET percent_at_pm = round(greatest(
      (e.lifetime_shots - v.prev_shots) * 100.0 / p.interval_shots,
      extract(epoch FROM e.performed_at - v.prev_at) * 100.0 / (p.interval_days * 86400.0)), 1)
    FROM (SELECT id, lag(lifetime_shots) OVER w AS prev_shots, lag(performed_at) OVER w AS prev_at
          FROM pm_events WINDOW w AS (PARTITION BY pm_plan_id ORDER BY performed_at, id)) v, pm_plans p
    WHERE v.id = e.id AND p.id = e.pm_plan_id`);
  await knex.raw(`UPDATE pm_events e SET percent_at_pm = round(extract(epoch FROM e.performed_at - p.created_at) * 100.0 / (p.interval_days * 86400.0), 1)
    FROM pm_plans p WHERE p.id = e.pm_plan_id AND e.percent_at_pm IS NULL AND p.interval_days IS NOT NULL`);

  // Shots per tool, press and month (UTC), kept by statement triggers from the readings' own changes
  // (inserted, accepted after review, deleted): one grouped upsert per statement, in key order so two
  // runtimes counting into the same rows queue rather than deadlock.
  await knex.raw(`CREATE TABLE shot_months (tool_id integer NOT NULL, press_id integer, month timestamptz NOT NULL, shots bigint NOT NULL)`);
  await knex.raw('CREATE UNIQUE INDEX shot_months_key ON shot_months (tool_id, press_id, month) NULLS NOT DISTINCT');
  await knex.raw('CREATE INDEX shot_months_month_idx ON shot_months (month)');
  const apply = (rows: string, sign: string) => `
        INSERT INTO shot_months AS s (tool_id, press_id, month, shots)
        SELECT tool_id, press_id, ${utcMonth('at')}, ${sign}sum(delta) FROM ${rows}
        WHERE tool_id IS NOT NULL AND delta > 0 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (tool_id, press_id, month) DO UPDATE SET shots = s.shots + EXCLUDED.shots;`;
  await knex.raw(`CREATE FUNCTION shot_months_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN ${apply('old_rows', '-')}
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN ${apply('new_rows', '')}
      END IF;
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE TRIGGER shot_months_insert AFTER INSERT ON shot_readings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION shot_months_apply()`);
  await knex.raw(`CREATE TRIGGER shot_months_update AFTER UPDATE ON shot_readings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION shot_months_apply()`);
  await knex.raw(`CREATE TRIGGER shot_months_delete AFTER DELETE ON shot_readings REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION shot_months_apply()`);
  await knex.raw(`INSERT INTO shot_months (tool_id, press_id, month, shots)
    SELECT tool_id, press_id, ${utcMonth('at')}, sum(delta) FROM shot_readings WHERE tool_id IS NOT NULL AND delta > 0 GROUP BY 1, 2, 3`);

  await knex.raw(`CREATE FUNCTION kpi_subject(p_by text, p_asset text, p_press text, p_customer text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE p_by WHEN 'tool' THEN p_asset WHEN 'press' THEN p_press
        WHEN 'customer' THEN coalesce(p_customer, '(no customer)') ELSE 'plant' END $$`);

  await knex.raw(`CREATE VIEW kpi_failures AS
    SELECT f.id, f.tool_id, t.asset_number, t.name AS tool_name, t.customer, lp.press_code,
      c.code AS failure_code, c.title AS failure_title, f.component, f.severity, f.cavity, f.shot_count, f.status,
      f.reported_at, r.repaired_at, extract(epoch FROM r.repaired_at - f.reported_at) / 3600.0 AS repair_hours
    FROM failure_reports f
    JOIN tools t ON t.id = f.tool_id
    JOIN failure_codes c ON c.id = f.failure_code_id
    ${lastPress('f.tool_id', 'f.reported_at')}
    ${repairs}`);

  const range = 'p_from timestamptz, p_to timestamptz';
  const scope = "p_by text DEFAULT 'plant', p_subject text DEFAULT NULL";
  // Mounted time within the range, up to now (a mount still open runs until now).
  const mountedSeconds = `extract(epoch FROM least(coalesce(m.unmounted_at, now()), p_to, now()) - greatest(m.mounted_at, p_from))`;
  const mountsInRange = `m.mounted_at < least(p_to, now()) AND (m.unmounted_at IS NULL OR m.unmounted_at > p_from)`;

  await knex.raw(`CREATE FUNCTION kpi_reliability(${range}, ${scope})
    RETURNS TABLE (subject text, failures bigint, operating_shots bigint, operating_hours double precision,
      mtbf_shots double precision, mtbf_hours double precision, repairs bigint, mttr_hours double precision)
    LANGUAGE sql STABLE AS $$
    WITH s AS (
      SELECT kpi_subject(p_by, t.asset_number, pr.code, t.customer) AS subject, sum(x.shots)::bigint AS shots
      FROM (${shotsInRange}) x JOIN tools t ON t.id = x.tool_id LEFT JOIN presses pr ON pr.id = x.press_id
      WHERE ${inScope('t.asset_number', 'pr.code', 't.customer')}
      GROUP BY 1
    ), h AS (
      SELECT kpi_subject(p_by, t.asset_number, pr.code, t.customer) AS subject, sum(${mountedSeconds}) / 3600.0 AS hours
      FROM tool_mounts m JOIN tools t ON t.id = m.tool_id JOIN presses pr ON pr.id = m.press_id
      WHERE ${mountsInRange} AND ${inScope('t.asset_number', 'pr.code', 't.customer')}
      GROUP BY 1
    ), f AS (
      SELECT kpi_subject(p_by, t.asset_number, ${pressAt('f.tool_id', 'f.reported_at')}, t.customer) AS subject, count(*) AS failures,
        count(r.repaired_at) AS repairs, avg(extract(epoch FROM r.repaired_at - f.reported_at) / 3600.0) AS mttr
      FROM failure_reports f JOIN tools t ON t.id = f.tool_id
      ${repairs}
      WHERE f.reported_at >= p_from AND f.reported_at < p_to AND ${inScope('t.asset_number', pressAt('f.tool_id', 'f.reported_at'), 't.customer')}
      GROUP BY 1
    )
    SELECT k.subject, coalesce(f.failures, 0), coalesce(s.shots, 0), coalesce(h.hours, 0)::float8,
      coalesce(s.shots, 0)::float8 / nullif(f.failures, 0), coalesce(h.hours, 0)::float8 / nullif(f.failures, 0), coalesce(f.repairs, 0), f.mttr::float8
    FROM (SELECT subject FROM s UNION SELECT subject FROM h UNION SELECT subject FROM f) k
    LEFT JOIN s USING (subject) LEFT JOIN h USING (subject) LEFT JOIN f USING (subject)
    ORDER BY k.subject $$`);

  await knex.raw(`CREATE FUNCTION kpi_failure_pareto(${range}, p_dimension text DEFAULT 'code', ${scope})
    RETURNS TABLE (key text, label text, failures bigint, percent double precision, cumulative_percent double precision)
    LANGUAGE sql STABLE AS $$
    WITH g AS (
      SELECT CASE p_dimension WHEN 'component' THEN f.component WHEN 'tool' THEN t.asset_number ELSE c.code END AS key,
        min(CASE p_dimension WHEN 'component' THEN f.component WHEN 'tool' THEN t.name ELSE c.title END) AS label,
        count(*) AS failures
      FROM failure_reports f JOIN tools t ON t.id = f.tool_id JOIN failure_codes c ON c.id = f.failure_code_id
      WHERE f.reported_at >= p_from AND f.reported_at < p_to AND ${inScope('t.asset_number', pressAt('f.tool_id', 'f.reported_at'), 't.customer')}
      GROUP BY 1
    )
    SELECT key, label, failures, failures * 100.0 / sum(failures) OVER (),
      sum(failures) OVER (ORDER BY failures DESC, key ROWS UNBOUNDED PRECEDING) * 100.0 / sum(failures) OVER ()
    FROM g ORDER BY failures DESC, key $$`);

  await knex.raw(`CREATE FUNCTION kpi_pm_compliance(${range}, ${scope})
    RETURNS TABLE (month timestamptz, subject text, pms_done bigint, on_time bigint, late bigint, compliance_percent double precision)
    LANGUAGE sql STABLE AS $$
    SELECT date_trunc('month', e.performed_at), kpi_subject(p_by, t.asset_number, ${pressAt('e.tool_id', 'e.performed_at')}, t.customer),
      count(*), count(*) FILTER (WHERE e.percent_at_pm < ${OVERDUE}), count(*) FILTER (WHERE e.percent_at_pm >= ${OVERDUE}),
      count(*) FILTER (WHERE e.percent_at_pm < ${OVERDUE}) * 100.0 / count(*)
    FROM pm_events e JOIN tools t ON t.id = e.tool_id
    WHERE e.performed_at >= p_from AND e.performed_at < p_to AND ${inScope('t.asset_number', pressAt('e.tool_id', 'e.performed_at'), 't.customer')}
    GROUP BY 1, 2 ORDER BY 1, 2 $$`);

  // Shots and days compared as core/pm/state.ts does: in integers (days as seconds), never as rounded percents.
  const level = (used: string, interval: string) =>
    `CASE WHEN ${interval} IS NULL THEN NULL WHEN ${used} * 100 >= ${interval} * ${OVERDUE} THEN 3 WHEN ${used} * 100 >= ${interval} * 100 THEN 2
      WHEN ${used} * 100 >= ${interval} * warning_percent THEN 1 ELSE 0 END`;
  await knex.raw(`CREATE FUNCTION kpi_pm_plans(p_now timestamptz DEFAULT now())
    RETURNS TABLE (plan_id integer, plan_name text, tool_id integer, asset_number text, customer text, press_code text,
      interval_shots bigint, interval_days integer, shots_since bigint, days_since double precision, percent double precision,
      state text, overdue_shots bigint, overdue_days double precision, shots_per_day double precision,
      due_at timestamptz, due_in_days double precision)
    LANGUAGE sql STABLE AS $$
    WITH p AS (
      SELECT p.id, p.name, t.id AS tool_id, t.asset_number, t.customer, pr.code AS press_code, p.interval_shots, p.interval_days,
        p.warning_percent, p.last_pm_at, greatest(t.lifetime_shots - p.last_pm_lifetime_shots, 0)::bigint AS shots_since,
        greatest(extract(epoch FROM p_now - p.last_pm_at), 0)::numeric AS seconds_since, w.shots_per_day
      FROM pm_plans p JOIN tools t ON t.id = p.tool_id
      LEFT JOIN tool_mounts m ON m.tool_id = t.id AND m.unmounted_at IS NULL
      LEFT JOIN presses pr ON pr.id = m.press_id
      LEFT JOIN LATERAL (SELECT coalesce(sum(r.delta), 0) / 7.0 AS shots_per_day FROM shot_readings r
        WHERE r.tool_id = t.id AND r.at >= p_now - interval '7 days' AND r.at < p_now) w ON true
      WHERE p.active AND t.status <> 'retired'
    ), s AS (
      SELECT p.*, greatest(${level('shots_since', 'interval_shots')}, ${level('seconds_since', 'interval_days::bigint * 86400')}) AS urgency,
        CASE WHEN interval_shots IS NOT NULL AND shots_per_day > 0
          THEN p_now + (interval_shots - shots_since) / shots_per_day * interval '1 day' END AS due_by_shots,
        last_pm_at + interval_days * interval '1 day' AS due_by_days
      FROM p
    )
    SELECT id, name, tool_id, asset_number, customer, press_code, interval_shots, interval_days, shots_since,
      (seconds_since / 86400)::float8,
      greatest(shots_since * 100.0 / interval_shots, seconds_since * 100.0 / (interval_days::bigint * 86400))::float8,
      (ARRAY['NOT_DUE', 'WARNING', 'DUE', 'OVERDUE'])[urgency + 1],
      shots_since - interval_shots, (seconds_since / 86400 - interval_days)::float8, shots_per_day::float8,
      least(due_by_shots, due_by_days), extract(epoch FROM least(due_by_shots, due_by_days) - p_now)::float8 / 86400
    FROM s ORDER BY least(due_by_shots, due_by_days) NULLS LAST, id $$`);

  await knex.raw(`CREATE FUNCTION kpi_maintenance(${range}, ${scope})
    RETURNS TABLE (month timestamptz, subject text, scheduled_jobs bigint, unscheduled_jobs bigint,
      scheduled_hours double precision, unscheduled_hours double precision, hours double precision, cost numeric,
      scheduled_percent double precision)
    LANGUAGE sql STABLE AS $$
    SELECT date_trunc('month', done_at), kpi_subject(p_by, asset_number, press_code, customer),
      count(*) FILTER (WHERE scheduled), count(*) FILTER (WHERE NOT scheduled),
      coalesce(sum(minutes_spent) FILTER (WHERE scheduled), 0) / 60.0, coalesce(sum(minutes_spent) FILTER (WHERE NOT scheduled), 0) / 60.0,
      coalesce(sum(minutes_spent), 0) / 60.0, coalesce(sum(cost), 0),
      coalesce(sum(minutes_spent) FILTER (WHERE scheduled), 0) * 100.0 / nullif(sum(minutes_spent), 0)
    FROM (
      SELECT t.asset_number, t.customer, ${pressAt('i.tool_id', 'i.performed_at')} AS press_code, true AS scheduled,
        i.performed_at AS done_at, i.minutes_spent, i.cost
      FROM inspections i JOIN tools t ON t.id = i.tool_id WHERE i.performed_at >= p_from AND i.performed_at < p_to
      UNION ALL
      SELECT t.asset_number, t.customer, ${pressAt('a.tool_id', 'a.completed_at')}, a.kind = 'preventive', a.completed_at, a.minutes_spent, a.cost
      FROM actions a JOIN tools t ON t.id = a.tool_id
      WHERE a.status IN ('done', 'verified') AND a.completed_at >= p_from AND a.completed_at < p_to
    ) w
    WHERE ${inScope('asset_number', 'press_code', 'customer')}
    GROUP BY 1, 2 ORDER BY 1, 2 $$`);

  await knex.raw(`CREATE FUNCTION kpi_utilisation(${range}, ${scope})
    RETURNS TABLE (subject text, tools bigint, idle_tools bigint, shots bigint, shots_per_day double precision,
      mounted_days double precision, cycle_time_ms double precision, capacity_shots double precision, utilisation_percent double precision)
    LANGUAGE sql STABLE AS $$
    WITH s AS (
      SELECT r.tool_id, r.press_id, sum(r.delta)::bigint AS shots,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY r.cycle_time_ms) FILTER (WHERE r.cycle_time_ms > 0) AS cycle_ms
      FROM shot_readings r JOIN tools t ON t.id = r.tool_id LEFT JOIN presses pr ON pr.id = r.press_id
      WHERE r.at >= p_from AND r.at < p_to AND r.delta > 0 AND ${inScope('t.asset_number', 'pr.code', 't.customer')}
      GROUP BY 1, 2
    ), h AS (
      SELECT m.tool_id, m.press_id, sum(${mountedSeconds}) AS seconds
      FROM tool_mounts m JOIN tools t ON t.id = m.tool_id JOIN presses pr ON pr.id = m.press_id
      WHERE ${mountsInRange} AND ${inScope('t.asset_number', 'pr.code', 't.customer')}
      GROUP BY 1, 2
    ), tp AS (
      SELECT kpi_subject(p_by, t.asset_number, pr.code, t.customer) AS subject, coalesce(s.shots, 0) AS shots, s.cycle_ms,
        coalesce(h.seconds, 0) AS seconds, CASE WHEN s.cycle_ms > 0 THEN coalesce(h.seconds, 0) * 1000.0 / s.cycle_ms END AS capacity
      FROM s FULL JOIN h USING (tool_id, press_id) JOIN tools t ON t.id = coalesce(s.tool_id, h.tool_id)
      LEFT JOIN presses pr ON pr.id = coalesce(s.press_id, h.press_id)
    ), u AS (
      SELECT subject, sum(shots)::bigint AS shots, sum(seconds) AS seconds, sum(capacity) AS capacity,
        sum(shots) FILTER (WHERE capacity IS NOT NULL) AS shots_with_capacity,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle_ms) AS cycle_ms
      FROM tp WHERE subject IS NOT NULL GROUP BY 1
    ), tl AS (
      SELECT kpi_subject(p_by, t.asset_number, NULL, t.customer) AS subject, count(*) AS tools,
        count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM shot_readings r
          WHERE r.tool_id = t.id AND r.at >= p_from AND r.at < p_to AND r.delta > 0)) AS idle_tools
      FROM tools t
      WHERE p_by <> 'press' AND t.status <> 'retired' AND t.created_at < p_to AND ${inScope('t.asset_number', 'NULL', 't.customer')}
      GROUP BY 1
    )
    SELECT subject, tl.tools, tl.idle_tools, coalesce(u.shots, 0),
      coalesce(u.shots, 0) / (extract(epoch FROM least(p_to, greatest(now(), p_from + interval '1 second')) - p_from) / 86400.0),
      coalesce(u.seconds, 0)::float8 / 86400, u.cycle_ms, u.capacity::float8, u.shots_with_capacity * 100.0 / nullif(u.capacity, 0)
    FROM u FULL JOIN tl USING (subject) ORDER BY subject $$`);

  await knex.raw(`CREATE FUNCTION kpi_end_of_life(p_within_percent numeric DEFAULT 10, p_now timestamptz DEFAULT now())
    RETURNS TABLE (tool_id integer, asset_number text, tool_name text, customer text, lifetime_shots bigint,
      expected_lifetime_shots bigint, percent_used double precision, remaining_shots bigint, shots_per_day double precision,
      end_at timestamptz)
    LANGUAGE sql STABLE AS $$
    SELECT t.id, t.asset_number, t.name, t.customer, t.lifetime_shots, t.expected_lifetime_shots,
      t.lifetime_shots * 100.0 / t.expected_lifetime_shots, t.expected_lifetime_shots - t.lifetime_shots, w.shots_per_day::float8,
      CASE WHEN w.shots_per_day > 0 THEN p_now + (t.expected_lifetime_shots - t.lifetime_shots) / w.shots_per_day * interval '1 day' END
    FROM tools t
    LEFT JOIN LATERAL (SELECT coalesce(sum(r.delta), 0) / 30.0 AS shots_per_day FROM shot_readings r
      WHERE r.tool_id = t.id AND r.at >= p_now - interval '30 days' AND r.at < p_now) w ON true
    WHERE t.status <> 'retired' AND t.expected_lifetime_shots IS NOT NULL
      AND t.lifetime_shots * 100 >= t.expected_lifetime_shots * (100 - p_within_percent)
    ORDER BY 7 DESC, t.asset_number $$`);

  await createReaderRole(knex);
}

/**
 * The read-only role Grafana's datasource logs in through (grafana/README.md): SELECT on the tables the
 * KPIs read (of users only the names), the KPI views and functions; no write, no accounts, no audit trail.
 * NOLOGIN: a login role with its password is created at deployment (`CREATE ROLE grafana LOGIN ... IN ROLE
 * toolroom_reader`), so no password lives here. Roles are the server's, not the database's: created once,
 * granted per database. Where roles cannot be created (no CREATEROLE, or an embedded PGlite that refuses),
 * this is skipped with a notice: a PGlite database has no other logins to protect anyway.
 */
async function createReaderRole(knex: Knex): Promise<void> {
  const grants = [
    `GRANT USAGE ON SCHEMA ' || quote_ident(current_schema()) || ' TO ${READER_ROLE}`,
    ...READ_TABLES.map((t) => `GRANT SELECT ON ${t} TO ${READER_ROLE}`),
    `GRANT SELECT ${USER_COLUMNS} ON users TO ${READER_ROLE}`,
    ...VIEWS.map((v) => `GRANT SELECT ON ${v} TO ${READER_ROLE}`),
    ...FUNCTIONS.map((f) => `GRANT EXECUTE ON FUNCTION ${f} TO ${READER_ROLE}`),
  ];
  await knex.raw(`DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${READER_ROLE}') THEN
      CREATE ROLE ${READER_ROLE} NOLOGIN;
    END IF;
    ${grants.map((g) => `EXECUTE '${g}';`).join('\n    ')}
  EXCEPTION WHEN insufficient_privilege OR feature_not_supported THEN
    RAISE NOTICE 'toolroom: read-only role ${READER_ROLE} not created here (%)', SQLERRM;
  END $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${READER_ROLE}') THEN
      EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA ' || quote_ident(current_schema()) || ' FROM ${READER_ROLE}';
      EXECUTE 'REVOKE ALL ON SCHEMA ' || quote_ident(current_schema()) || ' FROM ${READER_ROLE}';
    END IF;
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END $$`);
  for (const f of FUNCTIONS) await knex.raw(`DROP FUNCTION ${f}`);
  for (const v of VIEWS) await knex.raw(`DROP VIEW ${v}`);
  for (const op of ['insert', 'update', 'delete']) await knex.raw(`DROP TRIGGER shot_months_${op} ON shot_readings`);
  await knex.raw('DROP FUNCTION shot_months_apply()');
  await knex.raw('DROP TABLE shot_months');
  await knex.raw('DROP TRIGGER pm_events_percent_at_pm ON pm_events');
  await knex.raw('DROP FUNCTION pm_events_percent_at_pm()');
  await knex.raw('ALTER TABLE pm_events DROP COLUMN percent_at_pm');
  await knex.raw('DROP INDEX pm_events_performed_idx');
  await knex.raw('DROP INDEX shot_readings_at_idx');
  await knex.raw('DROP INDEX actions_completed_idx');
  await knex.raw(`ALTER TABLE actions DROP CONSTRAINT actions_cost_check, DROP CONSTRAINT actions_minutes_check,
    DROP COLUMN cost, DROP COLUMN minutes_spent`);
}
