import { mountHistory, mountTool, unmountTool } from '../core/mounts/service';
import { listPresses } from '../core/presses/service';
import { recordNode } from './lib/record-node';

/** toolroom-mount: tools on presses — mount, unmount, mount history; and the presses to pick from. */
export = recordNode({
  type: 'toolroom-mount',
  icon: 'font-awesome/fa-compress',
  operations: { mount: mountTool, unmount: unmountTool, history: mountHistory, presses: listPresses },
});
