import { createCode, getCode, listCatalog, updateCode } from '../core/failures/catalog';
import { getFailure, listFailures, reportFailure, triageFailure } from '../core/failures/service';
import { recordNode } from './lib/record-node';

/**
 * toolroom-failure: failure reports against the catalog — report, triage (status, severity, root
 * cause), get, list — and the catalog a report form picks its code from.
 */
export = recordNode({
  type: 'toolroom-failure',
  icon: 'font-awesome/fa-exclamation-triangle',
  operations: { report: reportFailure, triage: triageFailure, get: getFailure, list: listFailures, catalog: listCatalog, code: getCode, newcode: createCode, editcode: updateCode },
});
