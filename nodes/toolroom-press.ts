import { createPress, deactivatePress, getPress, listPresses, updatePress } from '../core/presses/service';
import { recordNode } from './lib/record-node';

/**
 * toolroom-press: the press (injection moulding machine) register — list, get, create, update
 * (name, tonnage, OPC-UA endpoint, location) and deactivate; each press with the tool on it now.
 */
export = recordNode({
  type: 'toolroom-press',
  icon: 'font-awesome/fa-industry',
  operations: { list: listPresses, get: getPress, create: createPress, update: updatePress, deactivate: deactivatePress },
});
