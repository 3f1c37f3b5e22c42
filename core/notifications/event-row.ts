/** An event's columns as read with a notification, and the fields every view of it carries (inbox, e-mail, MQTT, flows). */
import { z } from 'zod';
import { recordMapper, type ColumnMap } from '../db/record';
import type { NotificationEventTable } from '../db/tables';
import { SEVERITIES } from './events';

export type EventColumns = Pick<NotificationEventTable, 'type' | 'severity' | 'title' | 'entity' | 'entity_id' | 'link'> & {
  /** jsonb: parsed by pg, text from a driver that leaves it. */
  data: NotificationEventTable['data'] | string;
};

/** Unnamed: the inbox record and the deliveries extend it. */
export const eventFieldsRecord = z.object({
  type: z.string(),
  severity: z.enum(SEVERITIES),
  title: z.string(),
  entity: z.string(),
  entityId: z.string(),
  link: z.string(),
  data: z.record(z.string(), z.unknown()).nullable(),
});
export type EventFields = z.infer<typeof eventFieldsRecord>;

/** Each field from its column: the inbox's mapper extends it (core/db/record.ts). */
export const eventColumnMap: ColumnMap<EventColumns, EventFields> = {
  type: 'type',
  severity: 'severity',
  title: 'title',
  entity: 'entity',
  entityId: 'entity_id',
  link: 'link',
  data: Object.assign((r: EventColumns) => (typeof r.data === 'string' ? (JSON.parse(r.data) as Record<string, unknown>) : r.data), { column: 'data' }),
};

export const eventFields = recordMapper<EventColumns, EventFields>(eventColumnMap).toRecord;
