import type { UserRole } from '../auth/actor';

/**
 * The events Toolroom tells people about: what each is, how serious, and who gets it unless they
 * chose otherwise. Personal events (an action of yours) go only to the person they are about.
 */

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Who gets an event by default: `true` everyone of the role, `'own_tools'` people with an open action on
 * the event's tool (the tools they work on), false nobody. Personal events ignore this: their person gets them.
 */
export type Audience = boolean | 'own_tools';

export interface EventType {
  severity: Severity;
  personal: boolean;
  /** technician, engineer, admin. */
  defaults: Record<UserRole, Audience>;
  /**
   * The MQTT message is retained, so a late subscriber sees the latest. Topics are per type, not per record:
   * a retained PM message would show one tool's PM as if it were the plant's, so only the site-wide state
   * (the last backup failure) is retained.
   */
  retain: boolean;
}

const roles = (technician: Audience, engineer: Audience, admin: Audience): Record<UserRole, Audience> => ({ technician, engineer, admin });

export const EVENT_TYPES = {
  'pm.warning': { severity: 'info', personal: false, defaults: roles('own_tools', false, false), retain: false },
  'pm.due': { severity: 'warning', personal: false, defaults: roles('own_tools', false, false), retain: false },
  'pm.overdue': { severity: 'warning', personal: false, defaults: roles('own_tools', true, false), retain: false },
  'action.assigned': { severity: 'info', personal: true, defaults: roles(true, true, true), retain: false },
  'action.due_tomorrow': { severity: 'info', personal: true, defaults: roles(true, true, true), retain: false },
  'action.overdue': { severity: 'warning', personal: true, defaults: roles(true, true, true), retain: false },
  'failure.critical': { severity: 'critical', personal: false, defaults: roles('own_tools', true, false), retain: false },
  'shots.held': { severity: 'warning', personal: false, defaults: roles(false, true, false), retain: false },
  'tool.end_of_life': { severity: 'warning', personal: false, defaults: roles('own_tools', true, false), retain: false },
  'backup.failed': { severity: 'critical', personal: false, defaults: roles(false, false, true), retain: true },
} as const satisfies Record<string, EventType>;

export type EventTypeName = keyof typeof EVENT_TYPES;
export const EVENT_TYPE_NAMES = Object.keys(EVENT_TYPES) as EventTypeName[];

/** Channels a person subscribes to. */
export const PERSONAL_CHANNELS = ['inbox', 'email'] as const;
export type PersonalChannel = (typeof PERSONAL_CHANNELS)[number];
/**
 * The site's channels, one message per event: MQTT, and `flow` (the toolroom-event node hands each
 * event to one runtime's flows). A site channel nobody sends is purged after SITE_ROWS_KEPT_DAYS.
 */
export const SITE_CHANNELS = ['mqtt', 'flow'] as const;
export const CHANNELS = [...PERSONAL_CHANNELS, ...SITE_CHANNELS] as const;
export type Channel = (typeof CHANNELS)[number];

/** An event as raised: the record it names and the page that shows it. */
export interface NotificationEventInput {
  type: EventTypeName;
  /** What makes it the same event when raised again (by a second runtime, a later sweep): one row per key. */
  key: string;
  title: string;
  entity: string;
  entityId: string | number;
  link: string;
  toolId?: number | null;
  /** The person a personal event is about. */
  userId?: number | null;
  data?: Record<string, unknown>;
  /** The level escalation has reached (0 = as raised). */
  severity?: Severity;
}

/** Pages of the dashboard, one per kind of record (relative: the inbox and e-mails prefix the site's URL). */
export const links = {
  tool: (assetNumber: string) => `/dashboard/tool?asset=${encodeURIComponent(assetNumber)}`,
  pmPlans: (assetNumber: string) => `/dashboard/pm-plans?asset=${encodeURIComponent(assetNumber)}`,
  failure: (id: number) => `/dashboard/triage?id=${id}`,
  actions: () => '/dashboard/actions',
  heldReadings: () => '/dashboard/home',
  home: () => '/dashboard/home',
};
