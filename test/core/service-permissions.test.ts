import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { OPERATIONS, grantFor, type Operation } from '../../core/auth/permissions';
import type { Actor } from '../../core/auth/actor';
import { ToolroomError } from '../../core/errors';
import * as tools from '../../core/tools/service';
import * as presses from '../../core/presses/service';
import * as mounts from '../../core/mounts/service';
import * as pm from '../../core/pm/service';
import * as shots from '../../core/shots/service';
import * as shotReview from '../../core/shots/review';
import * as inspections from '../../core/inspections/service';
import * as templates from '../../core/inspections/templates';
import * as failures from '../../core/failures/service';
import * as catalog from '../../core/failures/catalog';
import * as actions from '../../core/actions/service';
import * as users from '../../core/users/service';
import * as audit from '../../core/audit/query';
import * as accounts from '../../core/accounts/service';
import * as sessions from '../../core/accounts/sessions';
import * as apiTokens from '../../core/accounts/tokens';
import * as photos from '../../core/photos/service';
import * as photoCapture from '../../core/photos/capture';
import * as backups from '../../core/backup/service';
import { listBackups } from '../../core/backup/settings';
import * as retention from '../../core/retention/policy';
import { purgeExpired } from '../../core/retention/purge';
import * as kpi from '../../core/kpi/service';
import { exportCsv } from '../../core/reports/csv';
import { labelSheetPdf } from '../../core/reports/labels';
import { toolHistoryPdf } from '../../core/reports/toolHistory';
import * as inbox from '../../core/notifications/inbox';
import * as notificationSettings from '../../core/notifications/settings';
import * as notificationSystem from '../../core/notifications/system';
import { backends, resetData, tableCounts } from '../support/db';
import { admin, engineer, technician, system } from '../support/actors';

type Service = (db: Knex, actor: Actor, input: unknown) => Promise<unknown>;

/** The upload takes the image besides the input; named, so the test says which entry point it is. */
function uploadPhoto(db: Knex, actor: Actor, input: unknown) {
  return photos.uploadPhoto(db, actor, input, Buffer.alloc(0));
}

/**
 * Every service entry point and the operation it is guarded by. Services check the permission
 * before they read their input, so an empty input tells "forbidden" from "allowed" for every role.
 */
export const ENTRY_POINTS: Partial<Record<Operation, Service[]>> = {
  'tool.read': [tools.getTool, tools.listTools, kpi.toolTrend],
  'tool.create': [tools.createTool],
  'tool.update': [tools.updateTool],
  'tool.retire': [tools.retireTool],
  'press.read': [presses.getPress, presses.listPresses],
  'press.create': [presses.createPress],
  'press.update': [presses.updatePress],
  'mount.read': [mounts.mountHistory],
  'mount.mount': [mounts.mountTool],
  'mount.unmount': [mounts.unmountTool],
  'pm.read': [pm.getPlan, pm.listPlans, pm.pmTransitions],
  'pm.plan.create': [pm.createPlan],
  'pm.plan.update': [pm.updatePlan],
  'pm.record': [pm.recordPm],
  'inspection.read': [inspections.getInspection, inspections.listInspections, templates.getTemplate, templates.listTemplates],
  'inspection.record': [inspections.recordInspection],
  'template.manage': [templates.createTemplate, templates.updateTemplate],
  'failure.read': [failures.getFailure, failures.listFailures, catalog.getCode, catalog.listCodes, catalog.listCatalog],
  'failure.report': [failures.reportFailure],
  'failure.triage': [failures.triageFailure],
  'catalog.manage': [catalog.createCode, catalog.updateCode],
  'action.read': [actions.getAction, actions.listActions],
  'action.create': [actions.createAction],
  'action.assign': [actions.assignAction],
  'action.start': [actions.startAction],
  'action.complete': [actions.completeAction],
  'action.verify': [actions.verifyAction],
  'action.cancel': [actions.cancelAction],
  'shot.record': [shots.recordReadings],
  'shot.review': [shotReview.listHeldReadings, shotReview.acceptHeldReading, shotReview.rejectHeldReading, shotReview.enterManualShots],
  'user.read': [users.getUser, users.listUsers],
  'user.manage': [users.createUser, users.updateUser, accounts.setPassword, accounts.setPin],
  'audit.read': [audit.listAuditEvents],
  'backup.create': [backups.createBackup, listBackups],
  'retention.manage': [retention.listRetention, retention.setRetention, retention.placeLegalHold, retention.releaseLegalHold, retention.listLegalHolds, purgeExpired],
  'token.manage': [apiTokens.createApiToken, apiTokens.listApiTokens, apiTokens.revokeApiToken],
  'session.manage': [sessions.listSessions, sessions.revokeAllSessions],
  'photo.read': [photos.getPhoto, photos.listPhotos, photos.readPhoto],
  'photo.add': [uploadPhoto, photos.attachPhoto, photoCapture.capturePhoto],
  'photo.annotate': [photos.annotatePhoto],
  'photo.withdraw': [photos.withdrawPhoto],
  'report.export': [exportCsv],
  'report.tool': [toolHistoryPdf, labelSheetPdf],
  'kpi.read': [kpi.reliability, kpi.failurePareto, kpi.pmCompliance, kpi.pmForecast, kpi.maintenance, kpi.utilisation, kpi.endOfLife],
  'notification.read': [inbox.listInbox, inbox.unreadCount, inbox.acknowledge],
  'notification.settings': [notificationSettings.getNotificationSettings, notificationSettings.updateNotificationSettings, notificationSettings.setSubscriptions],
  'notification.raise': [notificationSystem.raiseBackupFailed],
};

// Operations whose entry points belong to later work.
const PENDING: Operation[] = [];

async function outcome(call: Promise<unknown>): Promise<'forbidden' | 'allowed'> {
  try {
    await call;
    return 'allowed';
  } catch (err) {
    if (err instanceof ToolroomError && err.code === 'forbidden') return 'forbidden';
    if (err instanceof ToolroomError) return 'allowed'; // got past the permission check to validation / lookup
    throw err;
  }
}

for (const backend of backends) {
  describe(`every service × every role [${backend.name}]`, function () {
    this.timeout(60000);
    let db: Knex;
    before(async () => {
      db = await backend.db();
      await resetData(db);
    });

    it('names an entry point for every operation in the table', () => {
      const missing = OPERATIONS.filter((op) => !ENTRY_POINTS[op] && !PENDING.includes(op));
      assert.deepEqual(missing, []);
    });

    for (const op of OPERATIONS) {
      for (const fn of ENTRY_POINTS[op] ?? []) {
        it(`${fn.name} (${op}): forbidden exactly for the roles the table refuses, writing nothing`, async () => {
          for (const actor of [technician, engineer, admin, system]) {
            const expected = grantFor(actor.role, op) === false ? 'forbidden' : 'allowed';
            const before = expected === 'forbidden' ? await tableCounts(db) : undefined;
            assert.equal(await outcome(fn(db, actor, {})), expected, `${actor.role} → ${fn.name}`);
            if (before) assert.deepEqual(await tableCounts(db), before);
          }
        });
      }
    }
  });
}
