import {
  assignAction,
  cancelAction,
  completeAction,
  createAction,
  getAction,
  listActions,
  startAction,
  verifyAction,
} from '../core/actions/service';
import { registerRecordNode } from './lib/record-node';
import type { NodeAPI } from './lib/red';

/** toolroom-action: corrective and preventive actions through their life — create, assign, start, complete, verify, cancel, get, list. */
export = function (RED: NodeAPI) {
  registerRecordNode(RED, {
    type: 'toolroom-action',
    operations: {
      create: createAction,
      assign: assignAction,
      start: startAction,
      complete: completeAction,
      verify: verifyAction,
      cancel: cancelAction,
      get: getAction,
      list: listActions,
    },
  });
};
