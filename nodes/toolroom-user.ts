import { homeSummary } from '../core/views/home';
import { me } from '../core/views/me';
import { toolView } from '../core/views/tool';
import { exportAuditEvents, listAssignees } from '../core/views/work';
import { listAuditEvents } from '../core/audit/query';
import { recordNode } from './lib/record-node';

/**
 * toolroom-user: what the logged-in user sees — `me` (who they are and the operations their role
 * may do, from core's permission table), `home` (their open actions, PM alerts, recent failures,
 * presses) and `tool` (a tool's page: tool, PM plans, pending actions, timeline); for the work pages
 * `assignees` (who an action can be given to), `audit` (the audit log) and `export` (it as a CSV or JSON file).
 */
export = recordNode({
  type: 'toolroom-user',
  icon: 'toolroom-user.svg',
  operations: { me: me, home: homeSummary, tool: toolView, assignees: listAssignees, audit: listAuditEvents, export: exportAuditEvents },
  triggers: ['me', 'home'],
});
