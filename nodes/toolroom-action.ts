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
import { recordNode } from './lib/record-node';

/** toolroom-action: corrective and preventive actions through their life — create, assign, start, complete, verify, cancel, get, list. */
export = recordNode({
  type: 'toolroom-action',
  icon: 'font-awesome/fa-tasks',
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
