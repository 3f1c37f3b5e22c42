/**
 * Toolroom's core: the domain services every adapter (Node-RED nodes, the REST API, dashboard
 * flows) calls. Each service takes `(db, actor, input)`, checks the permission table, validates
 * the input, writes in one transaction with its audit event, and throws a ToolroomError.
 */
export * from './errors';
export { parse, type Page } from './validate';
export * from './auth/actor';
export * from './auth/permissions';
export { listAuditEvents, type AuditEvent } from './audit/query';
export { verifyAuditChain, verifyAuditInput, type AuditChainReport, type AuditChainProblem } from './audit/verify';
export { openDatabase, migrateLatest, migrateRollbackAll, optionsFromEnv, backendOf, type Db, type DatabaseOptions } from './db/connect';
export { COUNT_CAP } from './db/page';

export * as tools from './tools/service';
export * as users from './users/service';
export * as presses from './presses/service';
export * as mounts from './mounts/service';
export * as pm from './pm/service';
export * as inspections from './inspections/service';
export * as templates from './inspections/templates';
export * as failures from './failures/service';
export * as catalog from './failures/catalog';
export * as actions from './actions/service';
export * as shots from './shots/service';
export * as shotReview from './shots/review';
export * as accounts from './accounts/service';
export * as sessions from './accounts/sessions';
export * as apiTokens from './accounts/tokens';
export * as photos from './photos/service';
export { countReading, type CounterConfig, type CounterWidth } from './shots/counter';
export { pmStatus, PM_STATES, type PmState } from './pm/state';
export { startDrainer } from './outbox/drainer';
export { seedReferenceData } from './seed/reference';
export { seedDemoPlant, isSeeded } from './seed/demo';

export type { Tool } from './tools/schema';
export type { Photo } from './photos/schema';
export type { Press } from './presses/schema';
export type { Mount } from './mounts/schema';
export type { User } from './users/schema';
export type { PmPlan, PmEvent, PmTransition } from './pm/schema';
export type { Inspection, InspectionTemplate } from './inspections/schema';
export type { FailureCode, FailureReport } from './failures/schema';
export type { Action } from './actions/schema';
