import { getInspection, listInspections, recordInspection } from '../core/inspections/service';
import { createTemplate, getTemplate, listTemplates, updateTemplate } from '../core/inspections/templates';
import { recordNode } from './lib/record-node';

/**
 * toolroom-inspection: post-run and preventive inspections against checklist templates — record
 * (a failed item raises its action and failure report in the same transaction), get, list — and
 * the templates a checklist form is built from, and their upkeep (newtemplate, edittemplate:
 * a checklist in use gets a new version, never changed under its inspections).
 */
export = recordNode({
  type: 'toolroom-inspection',
  icon: 'font-awesome/fa-check-square-o',
  operations: {
    record: recordInspection,
    get: getInspection,
    list: listInspections,
    templates: listTemplates,
    template: getTemplate,
    newtemplate: createTemplate,
    edittemplate: updateTemplate,
  },
});
