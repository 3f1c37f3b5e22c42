import type { Knex } from 'knex';
import { systemActor } from '../auth/actor';
import { findCode } from '../failures/repository';
import { seedFailureCatalog } from '../failures/seed';
import { findTemplate } from './repository';
import type { InspectionKind, InspectionTemplate, TemplateItem } from './schema';
import { insertTemplate } from './templates';

type Item = Omit<TemplateItem, 'failureCode' | 'hint'> & { failureCode?: string; hint?: string };

interface SeedTemplate {
  code: string;
  name: string;
  kind: InspectionKind;
  items: Item[];
}

/**
 * Last-shot inspection: done when a tool comes off the press, so the next run starts with a tool
 * that is clean, protected and known to work, and anything found is fixed before it is needed.
 * Items name the catalog code a failure raises; items without one raise an action only.
 */
export const POST_RUN_TEMPLATE: SeedTemplate = {
  code: 'post-run',
  name: 'Post-run (last-shot) inspection',
  kind: 'post_run',
  items: [
    { key: 'last_shot_sample', label: 'Last-shot sample checked (short shot, flash, sink, marks) and kept with the tool', hint: 'Compare with the approved sample; keep the last shot from every cavity.' },
    { key: 'cavity_id_counter', label: 'Cavity IDs, date stamps and tool counter noted', hint: 'Note the mechanical counter next to the press count.' },
    { key: 'parting_line_vents', label: 'Parting line and vents cleaned', failureCode: 'PL-VENT-BLOCKED', hint: 'Remove residue and gas deposits; no flash, dents or hobbing on the shut-off.' },
    { key: 'cavity_core_surfaces', label: 'Cavity and core surfaces inspected (scratches, dents, build-up, corrosion)', failureCode: 'CC-SURFACE-DAMAGE' },
    { key: 'ejector_pins_return', label: 'Ejector pins and return checked', failureCode: 'EJ-PIN-BROKEN', hint: 'Pins, sleeves and blades move freely, none bent or broken; the ejector plate returns fully.' },
    { key: 'slides_lifters', label: 'Slides and lifters move freely, no galling, wear plates intact', failureCode: 'SL-GALLING' },
    { key: 'guide_greased', label: 'Guide pins/bushings and slides greased', failureCode: 'GD-PIN-WEAR', hint: 'Clean first, then the specified grease; no grease on moulding surfaces.' },
    { key: 'hot_runner_zones', label: 'Hot-runner zones checked (heaters, thermocouples, no leakage at the tips)', failureCode: 'HR-ZONE-FAILURE', hint: 'n.a. for cold-runner tools.' },
    { key: 'water_leak_test', label: 'Water circuits leak-tested (blown out and dried if stored)', failureCode: 'CL-WATER-LEAK', hint: 'Pressure-test each circuit; blow out with air before storage.' },
    { key: 'rust_preventive', label: 'Rust preventive applied', failureCode: 'CC-CORROSION', hint: 'Cavities, cores and parting line, after the tool has cooled and dried.' },
    { key: 'loose_or_missing_parts', label: 'No loose screws, missing parts or damaged wiring and connectors', failureCode: 'OT-SCREW-LOOSE' },
    { key: 'closed_strapped', label: 'Tool closed and strapped', hint: 'Safety strap fitted, status tag on the tool, location recorded.' },
  ],
};

/** Preventive maintenance: the periodic work a PM plan calls for, deeper than the post-run check. */
export const PREVENTIVE_TEMPLATE: SeedTemplate = {
  code: 'pm-standard',
  name: 'Preventive maintenance (standard)',
  kind: 'preventive',
  items: [
    { key: 'counter_noted', label: 'Tool counter and press count noted for the PM record' },
    { key: 'disassembled_cleaned', label: 'Tool disassembled as required; plates, cavities and vents cleaned', hint: 'Dry-ice or ultrasonic cleaning where the surface allows.' },
    { key: 'vent_depths', label: 'Vent depths measured and restored', failureCode: 'PL-VENT-BLOCKED' },
    { key: 'parting_line_wear', label: 'Parting line and shut-offs checked for wear and hobbing', failureCode: 'PL-WORN-FLASH' },
    { key: 'inserts_cracks', label: 'Cavity and core inserts checked for cracks, chips and corrosion', failureCode: 'CC-INSERT-CRACKED' },
    { key: 'gates_wear', label: 'Gates checked for wear and erosion', failureCode: 'GT-GATE-WEAR' },
    { key: 'ejector_wear', label: 'Ejector pins, sleeves and springs measured; worn or bent pins replaced', failureCode: 'EJ-PIN-BROKEN' },
    { key: 'ejector_plate_return', label: 'Ejector plate guidance, return pins and early-return checked', failureCode: 'EJ-RETURN-FAULT' },
    { key: 'slides_lifters_wear', label: 'Slides, lifters, wear plates and heel blocks checked for galling and wear', failureCode: 'SL-GALLING' },
    { key: 'guides_alignment', label: 'Guide pins, bushings and interlocks checked for wear and alignment', failureCode: 'GD-PIN-WEAR' },
    { key: 'cooling_flow', label: 'Cooling circuits descaled, flow- and pressure-tested; O-rings replaced', failureCode: 'CL-WATER-LEAK' },
    { key: 'hot_runner_measured', label: 'Hot runner: heater resistance and thermocouples measured per zone, tips checked', failureCode: 'HR-ZONE-FAILURE', hint: 'n.a. for cold-runner tools.' },
    { key: 'actuators', label: 'Hydraulic / pneumatic cores and valve gates: seals, cylinders and limit switches checked', failureCode: 'OT-HYDRAULIC-LEAK' },
    { key: 'fasteners_torqued', label: 'Screws, clamp slots and lifting holes checked; screws torqued', failureCode: 'OT-SCREW-LOOSE' },
    { key: 'lubricated', label: 'Moving parts lubricated with the specified grease' },
    { key: 'rust_preventive_stored', label: 'Rust preventive applied, water blown out, tool closed, strapped and tagged', failureCode: 'CC-CORROSION' },
  ],
};

export const SEED_TEMPLATES: readonly SeedTemplate[] = [POST_RUN_TEMPLATE, PREVENTIVE_TEMPLATE];

/**
 * Create the best-practice templates that are missing; a template that exists (by code) is left
 * as the plant made it. The items name codes from the failure catalog, so the catalog's seed runs
 * first (it too adds only what is missing); an item whose code the plant has taken out of use
 * raises an action only. Runs in the caller's transaction when given one. Returns the templates
 * created by this call.
 */
export async function seedInspectionTemplates(db: Knex | Knex.Transaction): Promise<InspectionTemplate[]> {
  const run = async (trx: Knex.Transaction) => {
    await seedFailureCatalog(trx);
    const actor = systemActor('seed');
    const created: InspectionTemplate[] = [];
    for (const t of SEED_TEMPLATES) {
      if (await findTemplate(trx, { code: t.code })) continue;
      const items: TemplateItem[] = [];
      for (const i of t.items) {
        const code = i.failureCode ? await findCode(trx, i.failureCode) : undefined;
        items.push({ key: i.key, label: i.label, failureCode: code?.active ? code.code : null, hint: i.hint ?? null });
      }
      created.push(await insertTemplate(trx, actor, { code: t.code, name: t.name, kind: t.kind, items, active: true }));
    }
    return created;
  };
  return (db as Knex.Transaction).isTransaction ? run(db as Knex.Transaction) : (db as Knex).transaction(run);
}
