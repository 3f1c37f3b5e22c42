import type { Knex } from 'knex';
import { systemActor } from '../auth/actor';
import { recordAudit } from '../audit/record';
import { toCode, type CodeRow } from './repository';
import type { Component, FailureCode, Severity } from './schema';

interface SeedCode {
  code: string;
  title: string;
  component: Component;
  defaultSeverity: Severity;
  description: string;
}

const c = (code: string, component: Component, defaultSeverity: Severity, title: string, description: string): SeedCode => ({
  code,
  title,
  component,
  defaultSeverity,
  description,
});

/**
 * A starting catalog of the failures a mould shop sees, grouped by component. Severity is the
 * usual case (critical = the tool cannot run); the reporter changes it when this one differs.
 * Codes are stable: inspection checklists and reports refer to them.
 */
export const SEED_CATALOG: readonly SeedCode[] = [
  // Ejector system
  c('EJ-PIN-BROKEN', 'ejector_system', 'critical', 'Ejector pin broken', 'Pin snapped or head sheared; parts stick or the broken piece damages the cavity.'),
  c('EJ-PIN-BENT', 'ejector_system', 'major', 'Ejector pin bent', 'Pin bent or buckled, binding in its bore; marks on the part, risk of breaking.'),
  c('EJ-PIN-GALLING', 'ejector_system', 'major', 'Ejector pin galling / seizing', 'Scoring between pin and bore (heat, no clearance, no lubrication); pin sticks.'),
  c('EJ-SLEEVE-WORN', 'ejector_system', 'minor', 'Ejector sleeve or blade worn', 'Worn sleeve or blade lets plastic in: flash rings or burrs around the ejection point.'),
  c('EJ-RETURN-FAULT', 'ejector_system', 'critical', 'Return pin / ejector plate not returning', 'Ejector plate does not return fully before closing: pins hit the opposite half.'),
  c('EJ-SPRING-BROKEN', 'ejector_system', 'minor', 'Ejector return spring broken', 'Return spring cracked or fatigued; slow or incomplete return.'),
  c('EJ-PLATE-GUIDE-WORN', 'ejector_system', 'major', 'Ejector plate guide pins/bushings worn', 'Plate tilts on ejection: pins bind and wear unevenly.'),
  // Cavity, core and inserts
  c('CC-INSERT-CRACKED', 'cavity_core_inserts', 'critical', 'Insert cracked', 'Crack in a cavity or core insert (thermal fatigue, stress at sharp corners).'),
  c('CC-CORE-WORN', 'cavity_core_inserts', 'major', 'Core worn or eroded', 'Core pin or core worn at shut-offs or opposite the gate; dimensions drift.'),
  c('CC-SURFACE-DAMAGE', 'cavity_core_inserts', 'major', 'Cavity/core surface damaged', 'Scratches, dents or pitting on moulding surfaces; marks on the part.'),
  c('CC-POLISH-LOSS', 'cavity_core_inserts', 'minor', 'Polish or texture worn', 'High-gloss polish or texture worn or stained; cosmetic defects.'),
  c('CC-CORROSION', 'cavity_core_inserts', 'major', 'Corrosion / rust on moulding surfaces', 'Rust from condensation or corrosive resin gases (PVC, POM); no rust preventive in storage.'),
  c('CC-DEPOSIT', 'cavity_core_inserts', 'minor', 'Deposits / plate-out on surfaces', 'Build-up of additives or gas residue on cavity surfaces.'),
  c('CC-CORE-PIN-BROKEN', 'cavity_core_inserts', 'critical', 'Core pin broken or bent', 'Thin core pin broken or deflected; holes missing or off position.'),
  // Slides and lifters
  c('SL-GALLING', 'slides_lifters', 'major', 'Slide galling', 'Scoring on slide ways or wear plates; slide moves roughly or sticks.'),
  c('SL-LIFTER-BINDING', 'slides_lifters', 'major', 'Lifter binding', 'Lifter sticks in its guide; part pulled or lifter breaks.'),
  c('SL-ANGLE-PIN-WORN', 'slides_lifters', 'major', 'Angle pin (horn pin) worn or bent', 'Slide actuation late or incomplete; risk of the slide being hit on closing.'),
  c('SL-DETENT-FAILED', 'slides_lifters', 'critical', 'Slide retainer / detent failed', 'Slide not held in open position: it is crushed when the tool closes.'),
  c('SL-WEAR-PLATE-WORN', 'slides_lifters', 'minor', 'Wear plate worn', 'Worn wear plate or gib: slide play, flash at the slide shut-off.'),
  c('SL-HEEL-BLOCK-WORN', 'slides_lifters', 'major', 'Heel / locking block worn', 'Slide pushed back under injection pressure: flash and dimension drift.'),
  // Hot runner
  c('HR-ZONE-FAILURE', 'hot_runner', 'critical', 'Hot-runner zone failure', 'Zone does not heat or hold temperature; cause to be found (heater, thermocouple, wiring, controller).'),
  c('HR-HEATER-OPEN', 'hot_runner', 'critical', 'Heater open circuit', 'Heater band or coil has no continuity (resistance infinite): the zone does not heat.'),
  c('HR-HEATER-SHORT', 'hot_runner', 'critical', 'Heater short / earth fault', 'Heater shorted or to earth; trips the controller.'),
  c('HR-TC-FAILED', 'hot_runner', 'major', 'Thermocouple failure', 'Thermocouple open, pinched or reading wrong: zone uncontrolled or on manual.'),
  c('HR-TIP-LEAK', 'hot_runner', 'critical', 'Nozzle tip leak', 'Plastic leaking at the nozzle tip seal into the gate well; tool must be stripped.'),
  c('HR-DROOL', 'hot_runner', 'minor', 'Nozzle drool / stringing', 'Material drools or strings from the gate; temperature or tip wear.'),
  c('HR-VALVE-PIN-STUCK', 'hot_runner', 'major', 'Valve pin stuck or damaged', 'Valve gate pin does not open or close (actuator, seal, damaged pin).'),
  c('HR-MANIFOLD-LEAK', 'hot_runner', 'critical', 'Manifold leak', 'Plastic leaking between manifold and nozzle or at a plug.'),
  c('HR-WIRING-DAMAGED', 'hot_runner', 'major', 'Hot-runner wiring or connector damaged', 'Pinched or burnt wires, loose connector pins; intermittent zones.'),
  // Cooling
  c('CL-WATER-LEAK', 'cooling', 'critical', 'Water leak at O-ring', 'Water leaking into the cavity or parting line from a failed O-ring or seal.'),
  c('CL-CHANNEL-BLOCKED', 'cooling', 'major', 'Cooling channel blocked', 'Scale, rust or debris blocks a circuit: low flow, hot spots, longer cycle.'),
  c('CL-FITTING-LEAK', 'cooling', 'minor', 'Water fitting or plug leaking', 'Leak at an external nipple, plug or hose connection.'),
  c('CL-BAFFLE-DAMAGED', 'cooling', 'major', 'Baffle or bubbler damaged', 'Baffle or bubbler tube broken or missing: core runs hot.'),
  c('CL-CRACK-TO-CAVITY', 'cooling', 'critical', 'Crack between cooling channel and cavity', 'Water enters the cavity through a crack in the steel.'),
  // Parting line and vents
  c('PL-VENT-BLOCKED', 'parting_line_vents', 'major', 'Blocked vent', 'Vent clogged with residue: burns (dieseling), short shots.'),
  c('PL-WORN-FLASH', 'parting_line_vents', 'major', 'Worn parting line / flash', 'Worn or hobbed parting line lets material out: flash on the parts.'),
  c('PL-DAMAGED', 'parting_line_vents', 'critical', 'Parting line damaged (pinched part)', 'Dent or crush from closing on a part or runner; flash and a seal that no longer shuts off.'),
  c('PL-VENT-TOO-DEEP', 'parting_line_vents', 'minor', 'Vent worn too deep', 'Vent depth beyond the resin limit: flash at the vents.'),
  // Gating
  c('GT-GATE-WEAR', 'gating', 'major', 'Worn gate', 'Gate eroded or opened up: gate vestige, weight and dimension change.'),
  c('GT-GATE-BLOCKED', 'gating', 'critical', 'Gate blocked', 'Gate frozen or blocked by a foreign particle: cavity does not fill.'),
  c('GT-SPRUE-BUSHING', 'gating', 'major', 'Sprue bushing damaged or leaking', 'Sprue bushing seat damaged or radius mismatch: leaks at the machine nozzle, sprue sticks.'),
  c('GT-RUNNER-STICKING', 'gating', 'minor', 'Runner sticking / puller worn', 'Cold runner stays in the tool: worn sprue puller or undercut.'),
  c('GT-SUBGATE-CRACKED', 'gating', 'major', 'Tunnel (sub) gate insert cracked', 'Cracked or chipped tunnel gate insert: gate does not shear cleanly.'),
  // Guiding and alignment
  c('GD-PIN-WEAR', 'guiding', 'major', 'Worn guide pin or bushing', 'Guide pin or bushing worn or galled: halves misalign, shut-offs wear.'),
  c('GD-INTERLOCK-WORN', 'guiding', 'major', 'Parting-line interlock worn', 'Side or taper locks worn: cavity shift, mismatch on the part.'),
  c('GD-PIN-GALLED', 'guiding', 'major', 'Guide pin galled / seized', 'Guide pin scored or seized in its bushing (lubrication, heat).'),
  // Other
  c('OT-SCREW-LOOSE', 'other', 'major', 'Loose or broken screw / bolt', 'Clamp, insert or plate screw loose or broken.'),
  c('OT-HYDRAULIC-LEAK', 'other', 'major', 'Hydraulic core cylinder leak', 'Core-pull cylinder or hose leaking oil onto the tool.'),
  c('OT-LIMIT-SWITCH', 'other', 'major', 'Limit switch / sensor fault', 'Core-pull or ejector position switch not switching: press interlock stops.'),
];

/**
 * Insert the catalog codes that are missing (by code); a code the plant changed is left as it is.
 * Idempotent; each code inserted is audited as done by the seed. Runs in the caller's transaction
 * when given one. Returns the codes inserted by this call.
 */
export async function seedFailureCatalog(db: Knex | Knex.Transaction): Promise<FailureCode[]> {
  const run = async (trx: Knex.Transaction) => {
    const rows = (await trx('failure_codes')
      .insert(
        SEED_CATALOG.map((s) => ({
          code: s.code,
          title: s.title,
          component: s.component,
          description: s.description,
          default_severity: s.defaultSeverity,
        })),
      )
      .onConflict('code')
      .ignore()
      .returning('*')) as CodeRow[];
    const actor = systemActor('seed');
    const inserted = rows.map(toCode);
    for (const code of inserted) {
      await recordAudit(trx, actor, { action: 'failure_code.create', entity: 'failure_code', entityId: code.id, after: code });
    }
    return inserted;
  };
  return (db as Knex.Transaction).isTransaction ? run(db as Knex.Transaction) : (db as Knex).transaction(run);
}
