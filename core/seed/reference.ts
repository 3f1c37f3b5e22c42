import type { Knex } from 'knex';
import { seedFailureCatalog } from '../failures/seed';
import { seedInspectionTemplates } from '../inspections/seed';

/**
 * The reference data every plant starts with: the failure catalog and the best-practice
 * checklist templates (which name catalog codes, so the catalog comes first). Idempotent:
 * what exists is left as the plant edited it. Runs at every start, demo or not.
 */
export async function seedReferenceData(db: Knex): Promise<{ failureCodes: number; templates: number }> {
  return db.transaction(async (trx) => {
    const codes = await seedFailureCatalog(trx);
    const templates = await seedInspectionTemplates(trx);
    return { failureCodes: codes.length, templates: templates.length };
  });
}
