import { createCode, getCode, listCatalog, updateCode } from '../core/failures/catalog';
import { getFailure, listFailures, reportFailure, triageFailure } from '../core/failures/service';
import { registerRecordNode } from './lib/record-node';
import type { NodeAPI } from './lib/red';

/**
 * toolroom-failure: failure reports against the catalog — report, triage (status, severity, root
 * cause), get, list — and the catalog a report form picks its code from.
 */
export = function (RED: NodeAPI) {
  registerRecordNode(RED, {
    type: 'toolroom-failure',
    operations: { report: reportFailure, triage: triageFailure, get: getFailure, list: listFailures, catalog: listCatalog, code: getCode, newcode: createCode, editcode: updateCode },
  });
};
