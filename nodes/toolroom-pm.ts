import { createPlan, getPlan, listPlans, pmTransitions, recordPm, updatePlan } from '../core/pm/service';
import { recordNode } from './lib/record-node';

/**
 * toolroom-pm: preventive-maintenance plans (create, update, get, list), recording a PM done, and
 * `transitions`: tools whose plans became more urgent (WARNING / DUE / OVERDUE) since last announced,
 * one message each — core announces each transition once, however many runtimes ask.
 */
export = recordNode({
  type: 'toolroom-pm',
  icon: 'font-awesome/fa-wrench',
  operations: {
    create: createPlan,
    update: updatePlan,
    get: getPlan,
    list: listPlans,
    record: recordPm,
    transitions: pmTransitions,
  },
  splitResults: ['transitions'],
  triggers: ['transitions'],
});
