import { createTool, getTool, listTools, retireTool, updateTool } from '../core/tools/service';
import { registerRecordNode } from './lib/record-node';
import type { NodeAPI } from './lib/red';

/** toolroom-tool: the tool (mould) register — create, update, retire, get, list. */
export = function (RED: NodeAPI) {
  registerRecordNode(RED, {
    type: 'toolroom-tool',
    operations: { create: createTool, update: updateTool, retire: retireTool, get: getTool, list: listTools },
  });
};
