/**
 * The rows of the domain tables, declared once, as the migrations (migrations/) leave them and both
 * drivers hand them back: `timestamptz` as a Date, `bigint` and `numeric` as a number or a string
 * (pg returns text for them), `jsonb` parsed. Repositories derive their joined rows and their
 * mappers (core/db/record.ts) from them.
 *
 * Not (yet) knex's `Tables` augmentation (`declare module 'knex/types/tables'`): that types every
 * `db('tools')` in the tree, and the tests' ~180 untyped reads and the services' jsonb writes (JSON
 * text) would first need narrowing. `DomainTables` is shaped for it when they do.
 */
import type { UserRole } from '../auth/actor';
import type { LoginMethod } from '../accounts/schema';
import type { ActionKind, ActionStatus } from '../actions/schema';
import type { Component, FailureStatus, Severity } from '../failures/schema';
import type { InspectionKind, ItemResult, SparePart, TemplateItem } from '../inspections/schema';
import type { Channel, PersonalChannel, Severity as EventSeverity } from '../notifications/events';
import type { PmState } from '../pm/state';
import type { Outcome } from '../shots/counter';
import type { ToolStatus } from '../tools/schema';
import type { EditorAccess } from '../users/schema';

/** A `bigint` or `numeric` column: pg hands it back as text, PGlite as a number. */
export type BigCount = number | string;
/** A `timestamptz` column as read (a Date); a write may also give an ISO string. */
export type At = Date;

export interface UserTable {
  id: number;
  username: string;
  display_name: string;
  role: UserRole;
  editor_access: EditorAccess;
  active: boolean;
  password_hash: string | null;
  pin_hash: string | null;
  password_changed_at: At | null;
  must_change_password: boolean;
  created_at: At;
  updated_at: At;
}

export interface ToolTable {
  id: number;
  asset_number: string;
  name: string;
  part_numbers: string[];
  customer: string | null;
  owner: string | null;
  toolmaker: string | null;
  year: number | null;
  spi_class: number | null;
  cavity_count: number;
  hot_runner_zones: number;
  expected_lifetime_shots: BigCount | null;
  lifetime_shots: BigCount;
  status: ToolStatus;
  location: string | null;
  notes: string | null;
  retired_at: At | null;
  retired_reason: string | null;
  version: number;
  created_at: At;
  updated_at: At;
  /** Kept by a trigger (migration 010) for the search; never written by core. */
  search_text: string | null;
}

export interface ToolCavityTable {
  tool_id: number;
  number: number;
  state: 'active' | 'blocked';
  blocked_reason: string | null;
  lifetime_shots: BigCount;
}

export interface PressTable {
  id: number;
  code: string;
  name: string;
  tonnage: number | null;
  opcua_endpoint: string | null;
  location: string | null;
  active: boolean;
  created_at: At;
  updated_at: At;
}

export interface ToolMountTable {
  id: number;
  tool_id: number;
  press_id: number;
  mounted_at: At;
  unmounted_at: At | null;
  mounted_by: string;
  unmounted_by: string | null;
  note: string | null;
}

export interface PmPlanTable {
  id: number;
  tool_id: number;
  name: string;
  interval_shots: BigCount | null;
  interval_days: number | null;
  warning_percent: number;
  template_id: number | null;
  active: boolean;
  last_pm_lifetime_shots: BigCount;
  last_pm_at: At;
  notified_state: PmState;
  version: number;
  created_at: At;
  updated_at: At;
}

export interface PmEventTable {
  id: number;
  pm_plan_id: number;
  tool_id: number;
  performed_at: At;
  performed_by: string;
  lifetime_shots: BigCount;
  inspection_id: number | null;
  notes: string | null;
  /** How far through its interval the PM was when done (a trigger fills it in; PM compliance reads it). */
  percent_at_pm: BigCount | null;
  created_at: At;
}

export interface InspectionTemplateTable {
  id: number;
  code: string;
  name: string;
  kind: InspectionKind;
  items: TemplateItem[];
  active: boolean;
  /** The newest version; its items are `items`. */
  version: number;
  created_at: At;
  updated_at: At;
}

/** Every version of a template's checklist: inspections point at the one they were recorded with. */
export interface InspectionTemplateVersionTable {
  template_id: number;
  version: number;
  items: TemplateItem[];
  created_at: At;
}

/** The tools a template applies to; none listed: every tool. */
export interface InspectionTemplateToolTable {
  template_id: number;
  tool_id: number;
}

export interface InspectionTable {
  id: number;
  tool_id: number;
  template_id: number;
  template_version: number;
  pm_plan_id: number | null;
  kind: InspectionKind;
  outcome: 'pass' | 'fail';
  performed_at: At;
  performed_by: string;
  lifetime_shots: BigCount;
  findings: string | null;
  spare_parts: SparePart[];
  minutes_spent: number | null;
  cost: BigCount | null;
  created_at: At;
}

export interface InspectionResultTable {
  inspection_id: number;
  item_key: string;
  label: string;
  result: ItemResult;
  note: string | null;
  failure_report_id: number | null;
}

export interface FailureCodeTable {
  id: number;
  code: string;
  title: string;
  component: Component;
  description: string | null;
  default_severity: Severity;
  active: boolean;
  created_at: At;
  updated_at: At;
}

export interface FailureReportTable {
  id: number;
  tool_id: number;
  failure_code_id: number;
  inspection_id: number | null;
  severity: Severity;
  component: Component;
  cavity: number | null;
  shot_count: BigCount;
  description: string | null;
  root_cause: string | null;
  status: FailureStatus;
  reported_by: string;
  reported_at: At;
  closed_at: At | null;
  version: number;
  created_at: At;
  updated_at: At;
}

export interface ActionTable {
  id: number;
  kind: ActionKind;
  title: string;
  description: string | null;
  tool_id: number;
  failure_report_id: number | null;
  inspection_id: number | null;
  assignee_id: number | null;
  /** A `date` column: a Date from pg, 'YYYY-MM-DD' from PGlite. */
  due_date: Date | string | null;
  status: ActionStatus;
  created_by: string;
  started_at: At | null;
  completed_at: At | null;
  completed_by: string | null;
  resolution: string | null;
  verified_at: At | null;
  verified_by: string | null;
  cancelled_reason: string | null;
  minutes_spent: number | null;
  cost: BigCount | null;
  version: number;
  created_at: At;
  updated_at: At;
}

export interface ShotReadingTable {
  id: BigCount;
  source: string;
  press_id: number | null;
  tool_id: number | null;
  at: At;
  counter: BigCount | null;
  delta: BigCount;
  outcome: Outcome;
  cycle_time_ms: number | null;
  mould_id: string | null;
  /** Shots a held reading adds when accepted. */
  pending: BigCount | null;
  reviewed_at: At | null;
  reviewed_by: string | null;
  review_note: string | null;
  created_at: At;
}

export interface SessionTable {
  id: BigCount;
  user_id: number;
  token_hash: string;
  method: LoginMethod;
  created_at: At;
  last_seen_at: At;
  expires_at: At;
  address: string;
  user_agent: string | null;
  revoked_at: At | null;
  revoked_reason: string | null;
}

export interface ApiTokenTable {
  id: number;
  user_id: number;
  name: string;
  prefix: string;
  token_hash: string;
  created_at: At;
  created_by: string;
  expires_at: At | null;
  last_used_at: At | null;
  revoked_at: At | null;
  revoked_by: string | null;
}

export interface AuditEventTable {
  id: BigCount;
  /** Place in the hash chain, set at commit by the trigger (core/audit/chain.ts). */
  seq: BigCount | null;
  at: At;
  actor_id: string;
  actor_name: string;
  actor_role: string;
  via: string | null;
  action: string;
  entity: string;
  entity_id: string;
  before: unknown;
  after: unknown;
  content_hash: string;
  prev_hash: string | null;
  hash: string | null;
}

/** A signed anchor of a purged prefix of the audit chain (migration 017, core/audit/anchor.ts). */
export interface AuditAnchorTable {
  id: number;
  /** The last purged event's place in the chain, its id, time and link hash. */
  seq: BigCount;
  event_id: BigCount;
  event_at: At;
  hash: string;
  /** The first event this purge removed, and how many it removed. */
  first_seq: BigCount;
  purged: BigCount;
  /** The anchor before this one and its signature (null for the first). */
  previous_id: number | null;
  previous_signature: string | null;
  created_at: At;
  created_by: string;
  /** Ed25519 public key (SPKI DER, base64) and the signature (base64) over the fields above. */
  public_key: string;
  signature: string;
}

// Notifications (migration 014): events, each fanned out to one notification per person and channel.
export interface NotificationEventTable {
  id: BigCount;
  type: string;
  /** Unique: one event however many runtimes or sweeps raise it. */
  key: string;
  severity: EventSeverity;
  title: string;
  entity: string;
  entity_id: string;
  link: string;
  tool_id: number | null;
  user_id: number | null;
  data: Record<string, unknown> | null;
  raised_by: string;
  created_at: At;
  acknowledged_at: At | null;
  acknowledged_by: number | null;
  escalation_level: number;
}

export interface NotificationSettingsTable {
  user_id: number;
  email: string | null;
  quiet_from: string | null;
  quiet_until: string | null;
  time_zone: string;
  digest: boolean;
  digest_at: string;
  version: number;
  updated_at: At;
}

export interface NotificationSubscriptionTable {
  user_id: number;
  event_type: string;
  channel: PersonalChannel;
  enabled: boolean;
}

export interface NotificationTable {
  id: BigCount;
  event_id: BigCount;
  /** Null for the site's channels (MQTT, flows): one per event. */
  user_id: number | null;
  channel: Channel;
  level: number;
  digest: boolean;
  status: 'pending' | 'sent' | 'failed';
  due_at: At;
  attempts: number;
  last_error: string | null;
  claimed_until: At | null;
  sent_at: At | null;
  read_at: At | null;
  created_at: At;
}

/** Table name → row, shaped as knex's `Tables` augmentation wants it. */
export interface DomainTables {
  users: UserTable;
  tools: ToolTable;
  tool_cavities: ToolCavityTable;
  presses: PressTable;
  tool_mounts: ToolMountTable;
  pm_plans: PmPlanTable;
  pm_events: PmEventTable;
  inspection_templates: InspectionTemplateTable;
  inspection_template_versions: InspectionTemplateVersionTable;
  inspection_template_tools: InspectionTemplateToolTable;
  inspections: InspectionTable;
  inspection_results: InspectionResultTable;
  failure_codes: FailureCodeTable;
  failure_reports: FailureReportTable;
  actions: ActionTable;
  shot_readings: ShotReadingTable;
  sessions: SessionTable;
  api_tokens: ApiTokenTable;
  audit_events: AuditEventTable;
  audit_anchors: AuditAnchorTable;
  notification_events: NotificationEventTable;
  notification_settings: NotificationSettingsTable;
  notification_subscriptions: NotificationSubscriptionTable;
  notifications: NotificationTable;
}
