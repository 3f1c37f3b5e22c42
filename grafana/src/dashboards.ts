/**
 * Toolroom's Grafana dashboards, as code: Plant overview, Tool (by asset number), Reliability,
 * Maintenance and Actions. The KPIs are the SQL functions of migrations/013_kpi.ts (their meaning:
 * core/kpi/schema.ts), so Grafana, the pages and the reports show the same numbers. `npm run grafana`
 * writes grafana/provisioning/dashboards/toolroom/*.json; a test fails when the committed files lag behind this file.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarChart } from '@grafana/grafana-foundation-sdk/barchart';
import { PanelBuilder as Stat } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as Table } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeSeries } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as Gauge } from '@grafana/grafana-foundation-sdk/gauge';
import { INFLUXDB, influxql, POSTGRES, sql } from './queries';

const TAG = 'toolroom';
const RANGE = '$__timeFrom(), $__timeTo()';
export const TOOL_DASHBOARD_UID = 'toolroom-tool';

/** Toolroom's own address, for links to its pages (change it in Grafana or before generating). */
const toolroomUrl = () => new dashboard.ConstantVariableBuilder('toolroom_url').value('http://localhost:1880');

/** Links between the dashboards (all tagged toolroom), keeping the time range. */
const siblings = () => new dashboard.DashboardLinkBuilder('Toolroom').type(dashboard.DashboardLinkType.Dashboards).tags([TAG]).asDropdown(true).keepTime(true);

/** A panel's link to the Tool dashboard for the asset number in the clicked row's `field`. */
const toToolDashboard = (field: string) =>
  new dashboard.DashboardLinkBuilder('Tool dashboard').url(`/d/${TOOL_DASHBOARD_UID}/tool?var-asset=\${__data.fields.${field}}&\${__url_time_range}`);
/** …and to the tool's page in Toolroom (the URL its QR label carries). */
const toToolPage = (field: string) => new dashboard.DashboardLinkBuilder('Tool page in Toolroom').url(`\${toolroom_url}/dashboard/tool?asset=\${__data.fields.${field}}`).targetBlank(true);

function base(uid: string, title: string, description: string): dashboard.DashboardBuilder {
  return new dashboard.DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags([TAG])
    .readonly()
    .timezone('browser')
    .time({ from: 'now-90d', to: 'now' })
    .refresh('5m')
    .link(siblings())
    .withVariable(toolroomUrl());
}

function plantOverview(): dashboard.DashboardBuilder {
  return base('toolroom-plant', 'Toolroom · Plant overview', 'How the moulds are doing plant-wide over the chosen range.')
    .withPanel(new Stat().title('MTBF (shots)').description('Operating shots per failure').datasource(POSTGRES).span(6).height(5)
      .withTarget(sql(`SELECT mtbf_shots AS "MTBF shots" FROM kpi_reliability(${RANGE})`)))
    .withPanel(new Stat().title('MTTR (hours)').description('Failure reported → repair verified').unit('h').datasource(POSTGRES).span(6).height(5)
      .withTarget(sql(`SELECT mttr_hours AS "MTTR" FROM kpi_reliability(${RANGE})`)))
    .withPanel(new Stat().title('PM compliance').description('PMs done before OVERDUE').unit('percent').datasource(POSTGRES).span(6).height(5)
      .withTarget(sql(`SELECT sum(on_time) * 100.0 / nullif(sum(pms_done), 0) AS "PM compliance" FROM kpi_pm_compliance(${RANGE})`)))
    .withPanel(new Stat().title('Utilisation').description('Shots against capacity at the typical cycle time').unit('percent').datasource(POSTGRES).span(6).height(5)
      .withTarget(sql(`SELECT utilisation_percent AS "Utilisation" FROM kpi_utilisation(${RANGE})`)))
    .withPanel(new TimeSeries().title('Shots per day').unit('short').datasource(INFLUXDB).interval('1d').span(24).height(8)
      .withTarget(influxql('SELECT sum("delta") AS "shots" FROM "shots" WHERE $timeFilter GROUP BY time($__interval) fill(0)')))
    .withPanel(new Table().title('Tools').datasource(POSTGRES).span(14).height(10).dataLinks([toToolDashboard('Asset'), toToolPage('Asset')])
      .withTarget(sql(`SELECT subject AS "Asset", shots AS "Shots", round(shots_per_day::numeric, 1) AS "Shots/day",
        round(mounted_days::numeric, 1) AS "Days mounted", round(utilisation_percent::numeric, 1) AS "Utilisation %", idle_tools = 1 AS "Idle"
        FROM kpi_utilisation(${RANGE}, 'tool') ORDER BY shots DESC, subject`)))
    .withPanel(new Table().title('Near end of life').description('Within 10 % of the expected lifetime shots').datasource(POSTGRES).span(10).height(10)
      .dataLinks([toToolDashboard('Asset')])
      .withTarget(sql(`SELECT asset_number AS "Asset", round(percent_used::numeric, 1) AS "Used %", remaining_shots AS "Shots left", end_at AS "Reached at"
        FROM kpi_end_of_life(10)`)));
}

function tool(): dashboard.DashboardBuilder {
  const asset = new dashboard.QueryVariableBuilder('asset').label('Tool').datasource(POSTGRES)
    .query("SELECT asset_number FROM tools WHERE status <> 'retired' ORDER BY 1")
    .refresh(dashboard.VariableRefresh.OnDashboardLoad);
  return base(TOOL_DASHBOARD_UID, 'Toolroom · Tool', 'One mould: shots and cycle time, PM plans and forecast, failures and actions.')
    .withVariable(asset)
    .link(new dashboard.DashboardLinkBuilder('Tool page in Toolroom').type(dashboard.DashboardLinkType.Link).url('${toolroom_url}/dashboard/tool?asset=${asset}').targetBlank(true))
    .withPanel(new TimeSeries().title('Shots per day').datasource(INFLUXDB).interval('1d').span(12).height(8)
      .withTarget(influxql(`SELECT sum("delta") AS "shots" FROM "shots" WHERE "tool" = '$asset' AND $timeFilter GROUP BY time($__interval) fill(0)`)))
    .withPanel(new TimeSeries().title('Cycle time').unit('ms').datasource(INFLUXDB).interval('1d').span(12).height(8)
      .withTarget(influxql(`SELECT mean("cycle_time_ms") AS "cycle time" FROM "shots" WHERE "tool" = '$asset' AND $timeFilter GROUP BY time($__interval) fill(none)`)))
    .withPanel(new Gauge().title('PM progress').unit('percent').min(0).max(120).datasource(POSTGRES).span(12).height(7)
      .withTarget(sql('SELECT plan_name AS metric, percent AS value FROM kpi_pm_plans() WHERE asset_number = ${asset:sqlstring} ORDER BY plan_id')))
    .withPanel(new Table().title('PM forecast').description("When each PM falls due at this week's pace").datasource(POSTGRES).span(12).height(7)
      .withTarget(sql(`SELECT plan_name AS "Plan", state AS "State", due_at AS "Due", round(due_in_days::numeric, 1) AS "Due in (days)",
        round(shots_per_day::numeric) AS "Shots/day this week" FROM kpi_pm_plans() WHERE asset_number = \${asset:sqlstring} ORDER BY plan_id`)))
    .withPanel(new Stat().title('Reliability').datasource(POSTGRES).span(8).height(6)
      .withTarget(sql(`SELECT failures AS "Failures", mtbf_shots AS "MTBF shots", mttr_hours AS "MTTR hours"
        FROM kpi_reliability(${RANGE}, 'tool', \${asset:sqlstring})`)))
    .withPanel(new Table().title('Failures and actions').datasource(POSTGRES).span(16).height(10)
      .withTarget(sql(`SELECT reported_at AS "Time", 'failure' AS "What", failure_code || ' ' || failure_title AS "Detail", severity AS "Status"
        FROM kpi_failures WHERE asset_number = \${asset:sqlstring} AND $__timeFilter(reported_at)
        UNION ALL
        SELECT a.completed_at, a.kind || ' action', a.title, a.status FROM actions a JOIN tools t ON t.id = a.tool_id
        WHERE t.asset_number = \${asset:sqlstring} AND $__timeFilter(a.completed_at)
        ORDER BY 1`)));
}

function reliability(): dashboard.DashboardBuilder {
  const by = new dashboard.CustomVariableBuilder('by').label('Per').values('tool,press,customer,plant')
    .current({ text: 'tool', value: 'tool', selected: true });
  const pareto = (title: string, dimension: string) =>
    new BarChart().title(title).datasource(POSTGRES).span(8).height(9)
      .withTarget(sql(`SELECT key AS "${dimension}", failures AS "Failures" FROM kpi_failure_pareto(${RANGE}, '${dimension}')`));
  return base('toolroom-reliability', 'Toolroom · Reliability', 'MTBF, MTTR and where failures come from.')
    .withVariable(by)
    .withPanel(new Table().title('MTBF and MTTR').datasource(POSTGRES).span(24).height(9)
      .withTarget(sql(`SELECT subject AS "Subject", failures AS "Failures", operating_shots AS "Shots", round(operating_hours::numeric, 1) AS "Hours",
        round(mtbf_shots::numeric) AS "MTBF shots", round(mtbf_hours::numeric, 1) AS "MTBF hours", round(mttr_hours::numeric, 1) AS "MTTR hours"
        FROM kpi_reliability(${RANGE}, \${by:sqlstring}) ORDER BY failures DESC, subject`)))
    .withPanel(pareto('Failures by code', 'code'))
    .withPanel(pareto('Failures by component', 'component'))
    .withPanel(pareto('Failures by tool', 'tool').dataLinks([toToolDashboard('tool')]))
    .withPanel(new TimeSeries().title('Failures per day').datasource(POSTGRES).interval('1d').span(24).height(8)
      .withTarget(sql('SELECT $__timeGroupAlias(reported_at, $__interval), count(*) AS "failures" FROM kpi_failures WHERE $__timeFilter(reported_at) GROUP BY 1 ORDER BY 1', 'time_series')));
}

function maintenance(): dashboard.DashboardBuilder {
  return base('toolroom-maintenance', 'Toolroom · Maintenance', 'PM compliance, scheduled vs unscheduled work, hours and cost.')
    .withPanel(new BarChart().title('PM compliance per month').unit('percent').datasource(POSTGRES).span(12).height(8)
      .withTarget(sql(`SELECT to_char(month, 'YYYY-MM') AS "Month", sum(on_time) * 100.0 / sum(pms_done) AS "On time %"
        FROM kpi_pm_compliance(${RANGE}) GROUP BY month ORDER BY month`)))
    .withPanel(new BarChart().title('Scheduled vs unscheduled hours').unit('h').datasource(POSTGRES).span(12).height(8)
      .withTarget(sql(`SELECT to_char(month, 'YYYY-MM') AS "Month", sum(scheduled_hours) AS "Scheduled", sum(unscheduled_hours) AS "Unscheduled"
        FROM kpi_maintenance(${RANGE}) GROUP BY month ORDER BY month`)))
    .withPanel(new BarChart().title('Maintenance cost per month').unit('currencyEUR').datasource(POSTGRES).span(12).height(8)
      .withTarget(sql(`SELECT to_char(month, 'YYYY-MM') AS "Month", sum(cost) AS "Cost" FROM kpi_maintenance(${RANGE}) GROUP BY month ORDER BY month`)))
    .withPanel(new Table().title('Hours and cost per tool').datasource(POSTGRES).span(12).height(8).dataLinks([toToolDashboard('Asset')])
      .withTarget(sql(`SELECT subject AS "Asset", sum(hours) AS "Hours", sum(cost) AS "Cost" FROM kpi_maintenance(${RANGE}, 'tool')
        GROUP BY subject ORDER BY 3 DESC, 1`)))
    .withPanel(new Table().title('PMs overdue now').datasource(POSTGRES).span(24).height(8).dataLinks([toToolDashboard('Asset')])
      .withTarget(sql(`SELECT asset_number AS "Asset", plan_name AS "Plan", overdue_shots AS "Shots past due", round(overdue_days::numeric, 1) AS "Days past due"
        FROM kpi_pm_plans() WHERE state = 'OVERDUE' ORDER BY plan_id`)));
}

function actions(): dashboard.DashboardBuilder {
  const pending = "a.status IN ('open', 'in_progress')";
  return base('toolroom-actions', 'Toolroom · Actions', 'Open and overdue corrective and preventive actions.')
    .withPanel(new BarChart().title('Open actions by assignee').datasource(POSTGRES).span(12).height(8)
      .withTarget(sql(`SELECT coalesce(u.display_name, '(unassigned)') AS "Assignee", count(*) AS "Open",
        count(*) FILTER (WHERE a.due_date < CURRENT_DATE) AS "Overdue"
        FROM actions a LEFT JOIN users u ON u.id = a.assignee_id WHERE ${pending} GROUP BY 1 ORDER BY 2 DESC, 1`)))
    .withPanel(new BarChart().title('Open actions by age').datasource(POSTGRES).span(12).height(8)
      .withTarget(sql(`SELECT CASE WHEN now() - a.created_at < interval '7 days' THEN '< 1 week' WHEN now() - a.created_at < interval '30 days' THEN '1-4 weeks'
        ELSE '> 4 weeks' END AS "Age", count(*) AS "Actions" FROM actions a WHERE ${pending} GROUP BY 1 ORDER BY min(a.created_at) DESC`)))
    .withPanel(new Table().title('Overdue actions').datasource(POSTGRES).span(24).height(9).dataLinks([toToolDashboard('Asset')])
      .withTarget(sql(`SELECT t.asset_number AS "Asset", a.title AS "Action", coalesce(u.display_name, '(unassigned)') AS "Assignee",
        a.due_date AS "Due", CURRENT_DATE - a.due_date AS "Days overdue"
        FROM actions a JOIN tools t ON t.id = a.tool_id LEFT JOIN users u ON u.id = a.assignee_id
        WHERE ${pending} AND a.due_date < CURRENT_DATE ORDER BY a.due_date, a.id`)));
}

/** Every dashboard with the file it is provisioned from. */
export function dashboards(): { file: string; json: dashboard.Dashboard }[] {
  return [
    { file: 'plant-overview.json', json: plantOverview().build() },
    { file: 'tool.json', json: tool().build() },
    { file: 'reliability.json', json: reliability().build() },
    { file: 'maintenance.json', json: maintenance().build() },
    { file: 'actions.json', json: actions().build() },
  ];
}

/** A dashboard as its file holds it. */
export function dashboardFile(json: dashboard.Dashboard): string {
  return JSON.stringify(json, null, 2) + '\n';
}
