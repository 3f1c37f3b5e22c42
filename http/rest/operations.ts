/**
 * The REST API's one table: each route's method and path, the core service it calls, the input
 * schema (core's own zod schema: for OpenAPI and the query-string types) and the permission
 * operation core checks (for the documentation and the tests: core decides, never this file).
 *
 * Path placeholders are named after the input field they fill (`/users/{userId}/password`), and
 * a request's input is its JSON body (or its query string for GET) with the path's fields set.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Actor } from '../../core/auth/actor';
import { authorize, type Operation } from '../../core/auth/permissions';
import { pageOf, parse } from '../../core/validate';
import { auditEventRecord, listAuditEvents, listAuditInput } from '../../core/audit/query';
import { auditChainReportRecord, verifyAuditChain, verifyAuditInput } from '../../core/audit/verify';
import { trustedAuditKey } from '../../core/audit/anchor';
import * as tools from '../../core/tools/service';
import * as toolSchema from '../../core/tools/schema';
import * as presses from '../../core/presses/service';
import * as pressSchema from '../../core/presses/schema';
import * as mounts from '../../core/mounts/service';
import * as mountSchema from '../../core/mounts/schema';
import * as pm from '../../core/pm/service';
import * as pmSchema from '../../core/pm/schema';
import * as inspections from '../../core/inspections/service';
import * as templates from '../../core/inspections/templates';
import * as inspectionSchema from '../../core/inspections/schema';
import * as failures from '../../core/failures/service';
import * as catalog from '../../core/failures/catalog';
import * as failureSchema from '../../core/failures/schema';
import * as actions from '../../core/actions/service';
import * as actionSchema from '../../core/actions/schema';
import * as shots from '../../core/shots/service';
import * as shotReview from '../../core/shots/review';
import * as shotSchema from '../../core/shots/schema';
import * as users from '../../core/users/service';
import * as userSchema from '../../core/users/schema';
import * as accounts from '../../core/accounts/service';
import * as sessions from '../../core/accounts/sessions';
import * as apiTokens from '../../core/accounts/tokens';
import * as accountSchema from '../../core/accounts/schema';
import * as kpi from '../../core/kpi/service';
import * as kpiSchema from '../../core/kpi/schema';
import { exportInput } from '../../core/reports/csv';
import { labelSheetInput } from '../../core/reports/labels';
import { exportRoute, labelsRoute, toolHistoryRoute } from './reports';
import type { AccessPolicy } from '../../core/accounts/policy';
import { backupListRecord, backupNow, listBackups } from '../../core/backup/settings';
import { backupResultRecord } from '../../core/backup/service';
import * as retention from '../../core/retention/policy';
import { purgeExpired, purgeResultRecord } from '../../core/retention/purge';
import * as inbox from '../../core/notifications/inbox';
import * as notificationSettings from '../../core/notifications/settings';
import * as notificationSystem from '../../core/notifications/system';
import * as notificationSchema from '../../core/notifications/schema';
import type { Caller } from '../auth';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a route's handler gets. */
export interface RouteContext {
  db: Knex;
  /** Null only on routes open to anonymous callers. */
  caller: Caller | null;
  actor: Actor;
  /** The body (or query) with the path's fields set. */
  input: unknown;
  req: IncomingMessage;
  res: ServerResponse;
  policy: Partial<AccessPolicy>;
  secureCookies: boolean;
  address: string;
}

/** A handler's answer: a JSON body (status from the route), `undefined` for 204, or STREAMED when it wrote the response itself. */
export const STREAMED = Symbol('streamed');
export type RouteResult = unknown;

export interface Route {
  method: Method;
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  /**
   * The permission-table operation core checks (for 'own' grants: on one's own records); null = any
   * logged-in user, on their own account; 'anonymous' = no login needed.
   */
  permission: Operation | null | 'anonymous';
  /** Core's input schema: the query string (GET) or the JSON body (other methods), path fields included. */
  input?: z.ZodType;
  /** Core's output schema of the JSON answer (a record, a list, a Page of records); none for 204 and files. */
  output?: z.ZodType;
  /** Success status (default 200; 201 for creations; 204 when the handler returns undefined). */
  status?: number;
  /** Not a data body but a file (CSV, NDJSON) or HTML. */
  produces?: string;
  /** The body is this raw type (an image), not JSON: the handler reads the stream; the input is the query string. */
  consumes?: string;
  run: (ctx: RouteContext) => Promise<RouteResult>;
}

const r = (route: Route): Route => route;
export const call =
  (fn: (db: Knex, actor: Actor, input: unknown) => Promise<unknown>) =>
  (ctx: RouteContext): Promise<unknown> =>
    fn(ctx.db, ctx.actor, ctx.input);
/** A route whose handler writes the response itself (a file). */
const streamed =
  (fn: (ctx: RouteContext) => Promise<void>) =>
  async (ctx: RouteContext): Promise<RouteResult> => {
    await fn(ctx);
    return STREAMED;
  };
/** A route that takes only a record's id and fixes the rest (e.g. `active: false` for disable). */
const byIdWith =
  (fn: (db: Knex, actor: Actor, input: unknown) => Promise<unknown>, fixed: Record<string, unknown>) =>
  (ctx: RouteContext): Promise<unknown> => {
    // Only the id may come in: anything else in the body would reach the service along with it.
    const { id } = parse(idOnly, ctx.input);
    return fn(ctx.db, ctx.actor, { id, ...fixed });
  };
const idOnly = z.object({ id: z.unknown() }).strict();

type CoreGet = (db: Knex, actor: Actor, input: unknown) => Promise<unknown>;
type GetRoute = Pick<Route, 'operationId' | 'summary'>;
/** What a by-id get takes besides the id (a template's `version`). */
type ByIdRoute = GetRoute & { query?: z.ZodRawShape };
/**
 * A record's two gets, one core function: `GET <collection>/{id}` and `GET <collection>/by-<name>/{<field>}`,
 * by the code people read off the thing (asset number, press code, template code, username).
 */
const getRoutes = (
  collection: string,
  get: CoreGet,
  shared: Pick<Route, 'tag' | 'permission' | 'output'>,
  byId: ByIdRoute,
  byKey: GetRoute & { name: string; field: string },
): Route[] => [
  r({ method: 'GET', path: `${collection}/{id}`, operationId: byId.operationId, summary: byId.summary, ...shared, input: z.object({ id: z.number().int().positive(), ...byId.query }), run: call(get) }),
  r({
    method: 'GET',
    path: `${collection}/by-${byKey.name}/{${byKey.field}}`,
    operationId: byKey.operationId,
    summary: byKey.summary,
    ...shared,
    input: z.object({ [byKey.field]: z.string() }),
    run: call(get),
  }),
];

/** A route that takes no input. */
const nothing = z.object({}).strict();

/** Every core operation over HTTP, in documentation order. Session routes (login/logout/me) live in router.ts. */
export const CORE_ROUTES: Route[] = [
  // Tools
  r({ method: 'GET', path: '/tools', operationId: 'listTools', tag: 'Tools', summary: 'List tools (filter by status, customer, search text)', permission: 'tool.read', input: toolSchema.listToolsInput, output: pageOf(toolSchema.toolRecord), run: call(tools.listTools) }),
  r({ method: 'POST', path: '/tools', operationId: 'createTool', tag: 'Tools', summary: 'Register a tool (mould)', permission: 'tool.create', input: toolSchema.createToolInput, output: toolSchema.toolRecord, status: 201, run: call(tools.createTool) }),
  ...getRoutes('/tools', tools.getTool, { tag: 'Tools', permission: 'tool.read', output: toolSchema.toolRecord }, { operationId: 'getTool', summary: 'A tool by id' }, { name: 'asset', field: 'assetNumber', operationId: 'getToolByAssetNumber', summary: 'A tool by asset number (what its QR label carries)' }),
  r({ method: 'PATCH', path: '/tools/{id}', operationId: 'updateTool', tag: 'Tools', summary: 'Change a tool (send `version` for optimistic locking)', permission: 'tool.update', input: toolSchema.updateToolInput, output: toolSchema.toolRecord, run: call(tools.updateTool) }),
  r({ method: 'POST', path: '/tools/{id}/retire', operationId: 'retireTool', tag: 'Tools', summary: 'Retire a tool, with the reason', permission: 'tool.retire', input: toolSchema.retireToolInput, output: toolSchema.toolRecord, run: call(tools.retireTool) }),

  // Presses
  r({ method: 'GET', path: '/presses', operationId: 'listPresses', tag: 'Presses', summary: 'List presses', permission: 'press.read', input: pressSchema.listPressesInput, output: pageOf(pressSchema.pressRecord), run: call(presses.listPresses) }),
  r({ method: 'POST', path: '/presses', operationId: 'createPress', tag: 'Presses', summary: 'Add a press', permission: 'press.create', input: pressSchema.createPressInput, output: pressSchema.pressRecord, status: 201, run: call(presses.createPress) }),
  ...getRoutes('/presses', presses.getPress, { tag: 'Presses', permission: 'press.read', output: pressSchema.pressRecord }, { operationId: 'getPress', summary: 'A press by id' }, { name: 'code', field: 'code', operationId: 'getPressByCode', summary: 'A press by its code' }),
  r({ method: 'PATCH', path: '/presses/{id}', operationId: 'updatePress', tag: 'Presses', summary: 'Change a press', permission: 'press.update', input: pressSchema.updatePressInput, output: pressSchema.pressRecord, run: call(presses.updatePress) }),
  r({ method: 'POST', path: '/presses/{id}/deactivate', operationId: 'deactivatePress', tag: 'Presses', summary: 'Take a press out of use (refused while a tool is on it)', permission: 'press.update', input: pressSchema.deactivatePressInput, output: pressSchema.pressRecord, run: call(presses.deactivatePress) }),

  // Mounts
  r({ method: 'GET', path: '/mounts', operationId: 'mountHistory', tag: 'Mounts', summary: 'Mount history (of a tool, of a press, or all)', permission: 'mount.read', input: mountSchema.mountHistoryInput, output: pageOf(mountSchema.mountRecord), run: call(mounts.mountHistory) }),
  r({ method: 'POST', path: '/mounts', operationId: 'mountTool', tag: 'Mounts', summary: 'Mount a tool on a press', permission: 'mount.mount', input: mountSchema.mountToolInput, output: mountSchema.mountRecord, status: 201, run: call(mounts.mountTool) }),
  r({ method: 'POST', path: '/mounts/unmount', operationId: 'unmountTool', tag: 'Mounts', summary: 'Unmount a tool (named by itself or by its press)', permission: 'mount.unmount', input: mountSchema.unmountToolInput, output: mountSchema.mountRecord, run: call(mounts.unmountTool) }),

  // PM
  r({ method: 'GET', path: '/pm/plans', operationId: 'listPmPlans', tag: 'PM', summary: 'PM plans with their state (NOT_DUE, WARNING, DUE, OVERDUE)', permission: 'pm.read', input: pmSchema.listPlansInput, output: pageOf(pmSchema.pmPlanRecord), run: call(pm.listPlans) }),
  r({ method: 'POST', path: '/pm/plans', operationId: 'createPmPlan', tag: 'PM', summary: 'Add a PM plan to a tool (by shots and/or days)', permission: 'pm.plan.create', input: pmSchema.createPlanInput, output: pmSchema.pmPlanRecord, status: 201, run: call(pm.createPlan) }),
  r({ method: 'GET', path: '/pm/plans/{id}', operationId: 'getPmPlan', tag: 'PM', summary: 'A PM plan by id, with its state', permission: 'pm.read', input: pmSchema.getPlanInput, output: pmSchema.pmPlanRecord, run: call(pm.getPlan) }),
  r({ method: 'PATCH', path: '/pm/plans/{id}', operationId: 'updatePmPlan', tag: 'PM', summary: 'Change a PM plan', permission: 'pm.plan.update', input: pmSchema.updatePlanInput, output: pmSchema.pmPlanRecord, run: call(pm.updatePlan) }),
  r({ method: 'POST', path: '/pm/plans/{planId}/record', operationId: 'recordPm', tag: 'PM', summary: 'Record a PM done on the plan', permission: 'pm.record', input: pmSchema.recordPmInput, output: pmSchema.pmEventRecord, status: 201, run: call(pm.recordPm) }),
  r({ method: 'POST', path: '/pm/transitions', operationId: 'pmTransitions', tag: 'PM', summary: 'Plans that became more urgent since last asked (each announced once, whoever asks)', permission: 'pm.read', input: pmSchema.pmTransitionsInput, output: z.array(pmSchema.pmTransitionRecord), run: call(pm.pmTransitions) }),

  // Inspections and their templates
  r({ method: 'GET', path: '/inspections', operationId: 'listInspections', tag: 'Inspections', summary: 'List inspections', permission: 'inspection.read', input: inspectionSchema.listInspectionsInput, output: pageOf(inspectionSchema.inspectionRecord), run: call(inspections.listInspections) }),
  r({ method: 'POST', path: '/inspections', operationId: 'recordInspection', tag: 'Inspections', summary: 'Record an inspection against a checklist template', permission: 'inspection.record', input: inspectionSchema.recordInspectionInput, output: inspectionSchema.inspectionRecord, status: 201, run: call(inspections.recordInspection) }),
  r({ method: 'GET', path: '/inspections/{id}', operationId: 'getInspection', tag: 'Inspections', summary: 'An inspection by id', permission: 'inspection.read', input: inspectionSchema.getInspectionInput, output: inspectionSchema.inspectionRecord, run: call(inspections.getInspection) }),
  r({ method: 'GET', path: '/inspection-templates', operationId: 'listInspectionTemplates', tag: 'Inspections', summary: 'Checklist templates', permission: 'inspection.read', input: inspectionSchema.listTemplatesInput, output: z.array(inspectionSchema.inspectionTemplateRecord), run: call(templates.listTemplates) }),
  r({ method: 'POST', path: '/inspection-templates', operationId: 'createInspectionTemplate', tag: 'Inspections', summary: 'Add a checklist template', permission: 'template.manage', input: inspectionSchema.createTemplateInput, output: inspectionSchema.inspectionTemplateRecord, status: 201, run: call(templates.createTemplate) }),
  ...getRoutes('/inspection-templates', templates.getTemplate, { tag: 'Inspections', permission: 'inspection.read', output: inspectionSchema.inspectionTemplateRecord }, { operationId: 'getInspectionTemplate', summary: 'A checklist template by id: its newest version, or the `version` an inspection was recorded with', query: { version: z.number().int().positive().optional() } }, { name: 'code', field: 'code', operationId: 'getInspectionTemplateByCode', summary: 'A checklist template by code' }),
  r({ method: 'PATCH', path: '/inspection-templates/{id}', operationId: 'updateInspectionTemplate', tag: 'Inspections', summary: 'Change a checklist template', permission: 'template.manage', input: inspectionSchema.updateTemplateInput, output: inspectionSchema.inspectionTemplateRecord, run: call(templates.updateTemplate) }),

  // Failures and the catalog
  r({ method: 'GET', path: '/failures', operationId: 'listFailures', tag: 'Failures', summary: 'List failure reports', permission: 'failure.read', input: failureSchema.listFailuresInput, output: pageOf(failureSchema.failureReportRecord), run: call(failures.listFailures) }),
  r({ method: 'POST', path: '/failures', operationId: 'reportFailure', tag: 'Failures', summary: 'Report a failure on a tool', permission: 'failure.report', input: failureSchema.reportFailureInput, output: failureSchema.failureReportRecord, status: 201, run: call(failures.reportFailure) }),
  r({ method: 'GET', path: '/failures/{id}', operationId: 'getFailure', tag: 'Failures', summary: 'A failure report by id', permission: 'failure.read', input: failureSchema.getFailureInput, output: failureSchema.failureReportRecord, run: call(failures.getFailure) }),
  r({ method: 'POST', path: '/failures/{id}/triage', operationId: 'triageFailure', tag: 'Failures', summary: 'Triage a failure (status, severity, root cause)', permission: 'failure.triage', input: failureSchema.triageFailureInput, output: failureSchema.failureReportRecord, run: call(failures.triageFailure) }),
  r({ method: 'GET', path: '/failure-codes', operationId: 'listFailureCodes', tag: 'Failures', summary: 'Failure codes of the catalog', permission: 'failure.read', input: failureSchema.listCodesInput, output: z.array(failureSchema.failureCodeRecord), run: call(catalog.listCodes) }),
  r({ method: 'GET', path: '/failure-catalog', operationId: 'listFailureCatalog', tag: 'Failures', summary: 'The catalog grouped by component (for a picker)', permission: 'failure.read', input: failureSchema.listCodesInput, output: z.array(failureSchema.catalogGroupRecord), run: call(catalog.listCatalog) }),
  r({ method: 'POST', path: '/failure-codes', operationId: 'createFailureCode', tag: 'Failures', summary: 'Add a failure code', permission: 'catalog.manage', input: failureSchema.createCodeInput, output: failureSchema.failureCodeRecord, status: 201, run: call(catalog.createCode) }),
  r({ method: 'GET', path: '/failure-codes/{code}', operationId: 'getFailureCode', tag: 'Failures', summary: 'A failure code', permission: 'failure.read', input: failureSchema.getCodeInput, output: failureSchema.failureCodeRecord, run: call(catalog.getCode) }),
  r({ method: 'PATCH', path: '/failure-codes/{code}', operationId: 'updateFailureCode', tag: 'Failures', summary: 'Change a failure code', permission: 'catalog.manage', input: failureSchema.updateCodeInput, output: failureSchema.failureCodeRecord, run: call(catalog.updateCode) }),

  // Actions
  r({ method: 'GET', path: '/actions', operationId: 'listActions', tag: 'Actions', summary: 'List corrective and preventive actions', permission: 'action.read', input: actionSchema.listActionsInput, output: pageOf(actionSchema.actionRecord), run: call(actions.listActions) }),
  r({ method: 'POST', path: '/actions', operationId: 'createAction', tag: 'Actions', summary: 'Open an action', permission: 'action.create', input: actionSchema.createActionInput, output: actionSchema.actionRecord, status: 201, run: call(actions.createAction) }),
  r({ method: 'GET', path: '/actions/{id}', operationId: 'getAction', tag: 'Actions', summary: 'An action by id', permission: 'action.read', input: actionSchema.getActionInput, output: actionSchema.actionRecord, run: call(actions.getAction) }),
  r({ method: 'POST', path: '/actions/{id}/assign', operationId: 'assignAction', tag: 'Actions', summary: 'Assign an action (or hand it back with assigneeId null)', permission: 'action.assign', input: actionSchema.assignActionInput, output: actionSchema.actionRecord, run: call(actions.assignAction) }),
  r({ method: 'POST', path: '/actions/{id}/start', operationId: 'startAction', tag: 'Actions', summary: 'Start work on an action', permission: 'action.start', input: actionSchema.startActionInput, output: actionSchema.actionRecord, run: call(actions.startAction) }),
  r({ method: 'POST', path: '/actions/{id}/complete', operationId: 'completeAction', tag: 'Actions', summary: 'Complete an action with its resolution', permission: 'action.complete', input: actionSchema.completeActionInput, output: actionSchema.actionRecord, run: call(actions.completeAction) }),
  r({ method: 'POST', path: '/actions/{id}/verify', operationId: 'verifyAction', tag: 'Actions', summary: 'Verify a completed action', permission: 'action.verify', input: actionSchema.verifyActionInput, output: actionSchema.actionRecord, run: call(actions.verifyAction) }),
  r({ method: 'POST', path: '/actions/{id}/cancel', operationId: 'cancelAction', tag: 'Actions', summary: 'Cancel an action, with the reason', permission: 'action.cancel', input: actionSchema.cancelActionInput, output: actionSchema.actionRecord, run: call(actions.cancelAction) }),

  // Shot counts
  r({ method: 'POST', path: '/shot-readings', operationId: 'recordShotReadings', tag: 'Shots', summary: 'Record a batch of shot counter readings (a JSON array; idempotent by source and time)', permission: 'shot.record', input: shotSchema.shotReadingsInput, output: shotSchema.recordResultRecord, run: call((db, actor, input) => shots.recordReadings(db, actor, input)) }),
  r({ method: 'GET', path: '/held-readings', operationId: 'listHeldReadings', tag: 'Shots', summary: 'Readings held for review (implausible jumps)', permission: 'shot.review', input: shotSchema.listHeldReadingsInput, output: pageOf(shotSchema.heldReadingRecord), run: call(shotReview.listHeldReadings) }),
  r({ method: 'POST', path: '/held-readings/{id}/accept', operationId: 'acceptHeldReading', tag: 'Shots', summary: 'Accept a held reading: its shots count', permission: 'shot.review', input: shotSchema.acceptHeldReadingInput, output: shotSchema.acceptResultRecord, run: call(shotReview.acceptHeldReading) }),
  r({ method: 'POST', path: '/manual-shots', operationId: 'enterManualShots', tag: 'Shots', summary: 'Enter shots for a tool by hand, with the reason (engineers)', permission: 'shot.review', input: shotSchema.manualShotsInput, output: shotSchema.manualShotsRecord, status: 201, run: call(shotReview.enterManualShots) }),
  r({ method: 'POST', path: '/held-readings/{id}/reject', operationId: 'rejectHeldReading', tag: 'Shots', summary: 'Reject a held reading, with the reason', permission: 'shot.review', input: shotSchema.rejectHeldReadingInput, output: shotSchema.heldReadingRecord, run: call(shotReview.rejectHeldReading) }),

  // Users (admins)
  r({ method: 'GET', path: '/users', operationId: 'listUsers', tag: 'Users', summary: 'List users', permission: 'user.read', input: userSchema.listUsersInput, output: pageOf(userSchema.userRecord), run: call(users.listUsers) }),
  r({ method: 'POST', path: '/users', operationId: 'createUser', tag: 'Users', summary: 'Add a user (then set a password and/or PIN)', permission: 'user.manage', input: userSchema.createUserInput, output: userSchema.userRecord, status: 201, run: call(users.createUser) }),
  ...getRoutes('/users', users.getUser, { tag: 'Users', permission: 'user.read', output: userSchema.userRecord }, { operationId: 'getUser', summary: 'A user by id' }, { name: 'username', field: 'username', operationId: 'getUserByUsername', summary: 'A user by username' }),
  r({ method: 'PATCH', path: '/users/{id}', operationId: 'updateUser', tag: 'Users', summary: 'Change a user (display name, role, editor access, active)', permission: 'user.manage', input: userSchema.updateUserInput, output: userSchema.userRecord, run: call(users.updateUser) }),
  r({ method: 'POST', path: '/users/{id}/disable', operationId: 'disableUser', tag: 'Users', summary: 'Disable a user: their sessions and API tokens stop working at once', permission: 'user.manage', input: z.object({ id: z.number().int().positive() }).strict(), output: userSchema.userRecord, run: byIdWith(users.updateUser, { active: false }) }),
  r({ method: 'POST', path: '/users/{id}/enable', operationId: 'enableUser', tag: 'Users', summary: 'Enable a disabled user again', permission: 'user.manage', input: z.object({ id: z.number().int().positive() }).strict(), output: userSchema.userRecord, run: byIdWith(users.updateUser, { active: true }) }),
  r({ method: 'PUT', path: '/users/{userId}/password', operationId: 'setUserPassword', tag: 'Users', summary: "Reset a user's password (temporary unless mustChange is false); their sessions end", permission: 'user.manage', input: accountSchema.setPasswordInput, output: userSchema.userRecord, run: call(accounts.setPassword) }),
  r({ method: 'POST', path: '/users/{userId}/password/reset', operationId: 'resetUserPassword', tag: 'Users', summary: "Reset a user's password to a generated temporary one, in this answer only; their sessions end", permission: 'user.manage', input: accountSchema.resetPasswordInput, output: accountSchema.passwordResetRecord, run: call(accounts.resetPassword) }),
  r({ method: 'PUT', path: '/users/{userId}/pin', operationId: 'setUserPin', tag: 'Users', summary: "Set a user's shop-floor PIN (4-8 digits), or remove it with null", permission: 'user.manage', input: accountSchema.setPinInput, output: userSchema.userRecord, run: call(accounts.setPin) }),

  // Own account: sessions and API tokens ('own' for everyone, everyone's for admins)
  r({ method: 'GET', path: '/sessions', operationId: 'listSessions', tag: 'Account', summary: "Open sessions: one's own, or a user's (admins)", permission: 'session.manage', input: accountSchema.userSessionsInput, output: z.array(accountSchema.sessionRecord), run: call(sessions.listSessions) }),
  r({ method: 'POST', path: '/sessions/revoke-all', operationId: 'revokeAllSessions', tag: 'Account', summary: 'Log out everywhere: oneself, or a user (admins)', permission: 'session.manage', input: accountSchema.userSessionsInput, output: z.object({ revoked: z.number().int().min(0) }), run: call(sessions.revokeAllSessions) }),
  r({ method: 'GET', path: '/tokens', operationId: 'listApiTokens', tag: 'Account', summary: "API tokens: one's own, a user's or everyone's (admins)", permission: 'token.manage', input: accountSchema.listApiTokensInput, output: pageOf(accountSchema.apiTokenRecord), run: call(apiTokens.listApiTokens) }),
  r({ method: 'POST', path: '/tokens', operationId: 'createApiToken', tag: 'Account', summary: 'Create an API token; the secret is in this answer only', permission: 'token.manage', input: accountSchema.createApiTokenInput, output: accountSchema.createdApiTokenRecord, status: 201, run: call(apiTokens.createApiToken) }),
  r({ method: 'DELETE', path: '/tokens/{id}', operationId: 'revokeApiToken', tag: 'Account', summary: 'Revoke an API token: it stops working at once', permission: 'token.manage', input: accountSchema.revokeApiTokenInput, output: accountSchema.apiTokenRecord, run: call(apiTokens.revokeApiToken) }),

  // KPIs (engineers): range from/to (default the last 90 days), scope by tool, press, customer or plant (core/kpi/schema.ts says what each means)
  r({ method: 'GET', path: '/kpi/reliability', operationId: 'kpiReliability', tag: 'KPIs', summary: 'MTBF (shots and hours) and MTTR per tool, press, customer or plant', permission: 'kpi.read', input: kpiSchema.kpiRangeInput, output: z.array(kpiSchema.reliabilityRecord), run: call(kpi.reliability) }),
  r({ method: 'GET', path: '/kpi/failure-pareto', operationId: 'kpiFailurePareto', tag: 'KPIs', summary: 'Failures by code, component or tool, largest first, with cumulative shares', permission: 'kpi.read', input: kpiSchema.paretoInput, output: z.array(kpiSchema.paretoRecord), run: call(kpi.failurePareto) }),
  r({ method: 'GET', path: '/kpi/pm-compliance', operationId: 'kpiPmCompliance', tag: 'KPIs', summary: 'PMs done before they went OVERDUE, per month', permission: 'kpi.read', input: kpiSchema.kpiRangeInput, output: z.array(kpiSchema.pmComplianceRecord), run: call(kpi.pmCompliance) }),
  r({ method: 'GET', path: '/kpi/pm-forecast', operationId: 'kpiPmForecast', tag: 'KPIs', summary: "Active PM plans: state, how far past due, and when each falls due at this week's pace", permission: 'kpi.read', input: kpiSchema.pmPlansInput, output: z.array(kpiSchema.pmPlanForecastRecord), run: call((db, actor, input) => kpi.pmForecast(db, actor, input)) }),
  r({ method: 'GET', path: '/kpi/maintenance', operationId: 'kpiMaintenance', tag: 'KPIs', summary: 'Scheduled vs unscheduled maintenance, hours and cost per month', permission: 'kpi.read', input: kpiSchema.kpiRangeInput, output: z.array(kpiSchema.maintenanceRecord), run: call(kpi.maintenance) }),
  r({ method: 'GET', path: '/kpi/utilisation', operationId: 'kpiUtilisation', tag: 'KPIs', summary: 'Shots per day, days mounted, utilisation against capacity, idle tools', permission: 'kpi.read', input: kpiSchema.kpiRangeInput, output: z.array(kpiSchema.utilisationRecord), run: call(kpi.utilisation) }),
  r({ method: 'GET', path: '/tools/by-asset/{assetNumber}/trend', operationId: 'toolTrend', tag: 'KPIs', summary: "A tool's shots per day and its PM forecast (the tool page; everyone who may read tools and PMs)", permission: 'tool.read', input: kpiSchema.toolTrendInput, output: kpiSchema.toolTrendRecord, run: call((db, actor, input) => kpi.toolTrend(db, actor, input)) }),
  r({ method: 'GET', path: '/kpi/end-of-life', operationId: 'kpiEndOfLife', tag: 'KPIs', summary: 'Tools within N % of their expected lifetime shots', permission: 'kpi.read', input: kpiSchema.endOfLifeInput, output: z.array(kpiSchema.endOfLifeRecord), run: call((db, actor, input) => kpi.endOfLife(db, actor, input)) }),

  // Reports and exports: files (core checks the role and audits each one)
  r({ method: 'GET', path: '/reports/tool-history.pdf', operationId: 'toolHistoryPdf', tag: 'Reports', summary: "A tool's history as PDF: identity, lifetime, cavities, PMs, inspections, failures, actions, mounts", permission: 'report.tool', input: toolSchema.getToolInput, produces: 'application/pdf', run: streamed(toolHistoryRoute) }),
  r({ method: 'POST', path: '/reports/labels.pdf', operationId: 'labelSheetPdf', tag: 'Reports', summary: 'QR labels of the chosen tools on a label sheet (baseUrl defaults to TOOLROOM_PUBLIC_URL, else this server)', permission: 'report.tool', input: labelSheetInput.extend({ baseUrl: labelSheetInput.shape.baseUrl.optional() }), produces: 'application/pdf', run: streamed(labelsRoute) }),
  r({ method: 'GET', path: '/exports/{kind}.csv', operationId: 'exportCsv', tag: 'Reports', summary: 'Tools, inspections, failures or actions as CSV (streamed), optionally over a time range', permission: 'report.export', input: exportInput, produces: 'text/csv', run: streamed(exportRoute) }),

  // Notifications (issue 13): the caller's own inbox; their settings (admins anyone's, with userId)
  r({ method: 'GET', path: '/notifications', operationId: 'listNotifications', tag: 'Notifications', summary: "The caller's inbox, newest first (only ever their own)", permission: 'notification.read', input: notificationSchema.listInboxInput, output: pageOf(notificationSchema.inboxItemRecord), run: call(inbox.listInbox) }),
  r({ method: 'GET', path: '/notifications/unread-count', operationId: 'unreadNotificationCount', tag: 'Notifications', summary: "How many of the caller's notifications are unread", permission: 'notification.read', output: notificationSchema.unreadCountRecord, run: call(inbox.unreadCount) }),
  r({ method: 'POST', path: '/notifications/{id}/acknowledge', operationId: 'acknowledgeNotification', tag: 'Notifications', summary: 'Mark a notification read; a critical event acknowledged stops its escalation', permission: 'notification.read', input: notificationSchema.acknowledgeInput, output: notificationSchema.inboxItemRecord, run: call(inbox.acknowledge) }),
  r({ method: 'GET', path: '/notification-settings', operationId: 'getNotificationSettings', tag: 'Notifications', summary: "Delivery settings and subscriptions: one's own, or a user's (admins, userId)", permission: 'notification.settings', input: notificationSchema.getSettingsInput, output: notificationSchema.notificationSettingsRecord, run: call(notificationSettings.getNotificationSettings) }),
  r({ method: 'PATCH', path: '/notification-settings', operationId: 'updateNotificationSettings', tag: 'Notifications', summary: 'Change e-mail address, quiet hours, time zone, digest', permission: 'notification.settings', input: notificationSchema.updateSettingsInput, output: notificationSchema.notificationSettingsRecord, run: call(notificationSettings.updateNotificationSettings) }),
  r({ method: 'PUT', path: '/notification-settings/subscriptions', operationId: 'setNotificationSubscriptions', tag: 'Notifications', summary: 'Turn events on or off per channel (enabled null = the role default)', permission: 'notification.settings', input: notificationSchema.setSubscriptionsInput, output: notificationSchema.notificationSettingsRecord, run: call(notificationSettings.setSubscriptions) }),
  r({ method: 'POST', path: '/notifications/backup-failed', operationId: 'raiseBackupFailed', tag: 'Notifications', summary: 'Report a failed backup: admins are notified, once per archive', permission: 'notification.raise', input: notificationSchema.raiseBackupFailedInput, status: 201, output: notificationSchema.raisedEventRecord.nullable(), run: call(notificationSystem.raiseBackupFailed) }),

  // Audit trail (admins)
  r({ method: 'GET', path: '/audit', operationId: 'listAuditEvents', tag: 'Audit', summary: 'Browse the audit trail, newest first (by entity, record, person, time span)', permission: 'audit.read', input: listAuditInput, output: pageOf(auditEventRecord), run: call(listAuditEvents) }),
  r({
    method: 'POST',
    path: '/audit/verify',
    operationId: 'verifyAuditChain',
    tag: 'Audit',
    summary: 'Check the hash chain from the newest signed purge anchor; names the first event edited, deleted, reordered or inserted, or the anchor altered or forged',
    permission: 'audit.read',
    input: verifyAuditInput,
    output: auditChainReportRecord,
    run: async (ctx) => {
      authorize(ctx.actor, 'audit.read');
      return verifyAuditChain(ctx.db, ctx.input, { trustedKey: trustedAuditKey() });
    },
  }),

  // Backups and retention (admins; issue 12)
  r({ method: 'POST', path: '/backups', operationId: 'backupNow', tag: 'Operations', summary: 'Back up now, as the server is configured (409 when it is not set up for backups)', permission: 'backup.create', input: nothing, output: backupResultRecord, status: 201, run: call(backupNow) }),
  r({ method: 'GET', path: '/backups', operationId: 'listBackups', tag: 'Operations', summary: "The backup directory's archives (newest first) and the last backup's outcome", permission: 'backup.create', input: nothing, output: backupListRecord, run: call((db, actor, input) => listBackups(db, actor, input)) }),
  r({ method: 'GET', path: '/retention', operationId: 'listRetention', tag: 'Operations', summary: 'How long each kind of record is kept', permission: 'retention.manage', input: nothing, output: z.array(retention.retentionPolicyRecord), run: call(retention.listRetention) }),
  r({ method: 'PUT', path: '/retention/{recordType}', operationId: 'setRetention', tag: 'Operations', summary: 'Change how long a kind of record is kept (days)', permission: 'retention.manage', input: retention.setRetentionInput, output: retention.retentionPolicyRecord, run: call(retention.setRetention) }),
  r({ method: 'POST', path: '/retention/purge', operationId: 'purgeExpired', tag: 'Operations', summary: 'Delete what has outlived its retention period now (the nightly job does it too)', permission: 'retention.manage', input: nothing, output: purgeResultRecord, run: call(purgeExpired) }),
  r({ method: 'POST', path: '/tools/{toolId}/legal-hold', operationId: 'placeLegalHold', tag: 'Operations', summary: 'Keep everything of a tool from the purge (a claim, litigation)', permission: 'retention.manage', input: retention.legalHoldInput, output: retention.legalHoldRecord, status: 201, run: call(retention.placeLegalHold) }),
  r({ method: 'GET', path: '/legal-holds', operationId: 'listLegalHolds', tag: 'Operations', summary: 'Legal holds in force, newest first', permission: 'retention.manage', input: nothing, output: z.array(retention.openHoldRecord), run: call(retention.listLegalHolds) }),
  r({ method: 'DELETE', path: '/tools/{toolId}/legal-hold', operationId: 'releaseLegalHold', tag: 'Operations', summary: "Release a tool's legal hold", permission: 'retention.manage', input: retention.releaseHoldInput, output: retention.releasedHoldRecord, run: call(retention.releaseLegalHold) }),
];
