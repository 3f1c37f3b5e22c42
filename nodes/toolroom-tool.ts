import { createTool, getTool, listTools, retireTool, updateTool } from '../core/tools/service';
import { recordNode } from './lib/record-node';

/** toolroom-tool: the tool (mould) register — create, update, retire, get, list. */
export = recordNode({
  type: 'toolroom-tool',
  icon: 'toolroom-tool.svg',
  operations: { create: createTool, update: updateTool, retire: retireTool, get: getTool, list: listTools },
});
