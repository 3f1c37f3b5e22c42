import { mountHistory, mountTool, unmountTool } from '../core/mounts/service';
import { listPresses } from '../core/presses/service';
import { registerRecordNode } from './lib/record-node';
import type { NodeAPI } from './lib/red';

/** toolroom-mount: tools on presses — mount, unmount, mount history; and the presses to pick from. */
export = function (RED: NodeAPI) {
  registerRecordNode(RED, {
    type: 'toolroom-mount',
    operations: { mount: mountTool, unmount: unmountTool, history: mountHistory, presses: listPresses },
  });
};
