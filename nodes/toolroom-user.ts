import { homeSummary } from '../core/views/home';
import { me } from '../core/views/me';
import { toolView } from '../core/views/tool';
import { exportAuditEvents, listAssignees } from '../core/views/work';
import { listAuditEvents } from '../core/audit/query';
import * as kpi from '../core/kpi/service';
import { acknowledge, listInbox, unreadCount } from '../core/notifications/inbox';
import { getNotificationSettings, setSubscriptions, updateNotificationSettings } from '../core/notifications/settings';
import { listSessions, revokeAllSessions } from '../core/accounts/sessions';
import { listUsers } from '../core/users/service';
import { recordNode } from './lib/record-node';

/**
 * toolroom-user: what the logged-in user sees — `me` (who they are and the operations their role
 * may do, from core's permission table), `home` (their open actions, PM alerts, recent failures,
 * presses) and `tool` (a tool's page: tool, PM plans, pending actions, timeline); for the work pages
 * `assignees` (who an action can be given to), `audit` (the audit log) and `export` (it as a CSV or JSON file);
 * for the engineers' pages the KPIs of core/kpi, and for the tool page a tool's `trend`; the user's own
 * inbox: `inbox`, `unread` (the header's count) and `acknowledge`; the account page: `settings`,
 * `savesettings` and `subscriptions` (notification settings; admins name a `userId`), `sessions` and
 * `logoutall` (the user's logged-in sessions), and `users` (admins pick whose account to edit).
 */
export = recordNode({
  type: 'toolroom-user',
  icon: 'toolroom-user.svg',
  operations: {
    me: me,
    home: homeSummary,
    tool: toolView,
    assignees: listAssignees,
    audit: listAuditEvents,
    export: exportAuditEvents,
    reliability: kpi.reliability,
    pareto: kpi.failurePareto,
    compliance: kpi.pmCompliance,
    forecast: kpi.pmForecast,
    maintenance: kpi.maintenance,
    utilisation: kpi.utilisation,
    lifetime: kpi.endOfLife,
    trend: kpi.toolTrend,
    inbox: listInbox,
    unread: unreadCount,
    acknowledge: acknowledge,
    settings: getNotificationSettings,
    savesettings: updateNotificationSettings,
    subscriptions: setSubscriptions,
    sessions: listSessions,
    logoutall: revokeAllSessions,
    users: listUsers,
  },
  triggers: ['me', 'home'],
});
