import { getInspection, listInspections, recordInspection } from '../core/inspections/service';
import { getTemplate, listTemplates } from '../core/inspections/templates';
import { registerRecordNode } from './lib/record-node';
import type { NodeAPI } from './lib/red';

/**
 * toolroom-inspection: post-run and preventive inspections against checklist templates — record
 * (a failed item raises its action and failure report in the same transaction), get, list — and
 * the templates a checklist form is built from.
 */
export = function (RED: NodeAPI) {
  registerRecordNode(RED, {
    type: 'toolroom-inspection',
    operations: { record: recordInspection, get: getInspection, list: listInspections, templates: listTemplates, template: getTemplate },
  });
};
