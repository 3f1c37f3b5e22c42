import path from 'node:path';
import { startPressSimulator, type PressSimulator, type PressSimulatorOptions } from '../../sim/press-simulator';

/**
 * The press simulator the OPC-UA browse suites find their variables in: P01 (M-1001, 4 cavities)
 * and P02 (M-1002, 2 cavities), counting only when a test steps them, certificates under `root`.
 * `options` adds to it (users, anonymous access).
 */
export function startTwoPresses(root: string, options: Partial<PressSimulatorOptions> = {}): Promise<PressSimulator> {
  return startPressSimulator({
    port: 0,
    certificateRoot: path.join(root, 'simulator'),
    presses: [
      { name: 'P01', mouldId: 'M-1001', cavities: 4, cycleTimeMs: 0 },
      { name: 'P02', mouldId: 'M-1002', cavities: 2, cycleTimeMs: 0 },
    ],
    ...options,
  });
}
