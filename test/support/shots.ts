import type { Db } from '../../core/db/connect';
import { mountTool } from '../../core/mounts/service';
import { createPress } from '../../core/presses/service';
import type { CreateToolInput, Tool } from '../../core/tools/schema';
import { createTool } from '../../core/tools/service';
import { engineer, technician } from './actors';
import { resetData, type Backend } from './db';

/**
 * The shot-counting suites' plant (test/core/shots, shot-review): tools M-100 (4 cavities, #2 blocked)
 * and M-200 (2 cavities, with `toolB`'s fields), presses P-01 and P-02, and M-100 mounted on P-01 at `mountedAt`.
 */
export async function shotPlant(db: Db, mountedAt: Date, toolB: Partial<CreateToolInput> = {}): Promise<{ toolA: Tool; toolB: Tool }> {
  const a = await createTool(db, technician, { assetNumber: 'M-100', name: 'Bezel', cavityCount: 4, blockedCavities: [{ number: 2, reason: 'cracked insert' }] });
  const b = await createTool(db, technician, { assetNumber: 'M-200', name: 'Cap', cavityCount: 2, ...toolB });
  await createPress(db, engineer, { code: 'P-01', name: 'Engel 200' });
  await createPress(db, engineer, { code: 'P-02', name: 'Arburg 470' });
  await mountTool(db, technician, { assetNumber: 'M-100', pressCode: 'P-01', at: mountedAt });
  return { toolA: a, toolB: b };
}

/** A shot suite's plant on one backend, fresh for each test (see shotSuite). */
export interface ShotSuite {
  db: Db;
  toolA: Tool;
  toolB: Tool;
}

/**
 * Registers a suite's hooks: the backend's database before it, and before each test the data reset
 * and shotPlant(mountedAt, toolB) made again. Read the fields in tests and later hooks.
 */
export function shotSuite(backend: Backend, mountedAt: Date, toolB: Partial<CreateToolInput> = {}): ShotSuite {
  const suite = {} as ShotSuite;
  before(async () => {
    suite.db = await backend.db();
  });
  beforeEach(async () => {
    await resetData(suite.db);
    Object.assign(suite, await shotPlant(suite.db, mountedAt, toolB));
  });
  return suite;
}
