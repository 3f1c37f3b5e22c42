import { acceptHeldReading, enterManualShots, listHeldReadings, rejectHeldReading } from '../core/shots/review';
import { recordNode } from './lib/record-node';

/**
 * toolroom-shot: an engineer's work on shot counts — the held readings (implausible jumps) to
 * review, accept or reject with the reason, and a manual shot entry for a tool with its reason.
 * Counting a press's readings is toolroom-shot-count's job.
 */
export = recordNode({
  type: 'toolroom-shot',
  icon: 'font-awesome/fa-tachometer',
  operations: { held: listHeldReadings, accept: acceptHeldReading, reject: rejectHeldReading, manual: enterManualShots },
});
