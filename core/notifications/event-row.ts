/** An event's columns as read with a notification, and the fields every view of it carries (inbox, e-mail, MQTT, flows). */

export interface EventColumns {
  type: string;
  severity: string;
  title: string;
  entity: string;
  entity_id: string;
  link: string;
  data: Record<string, unknown> | string | null;
}

export interface EventFields {
  type: string;
  severity: string;
  title: string;
  entity: string;
  entityId: string;
  link: string;
  data: Record<string, unknown> | null;
}

export const eventFields = (r: EventColumns): EventFields => ({
  type: r.type,
  severity: r.severity,
  title: r.title,
  entity: r.entity,
  entityId: r.entity_id,
  link: r.link,
  data: typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data,
});
