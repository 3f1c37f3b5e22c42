/**
 * Write the dashboards' JSON (`npm run grafana`): grafana/provisioning/dashboards/toolroom/*.json, which Grafana's file
 * provider reads (grafana/provisioning/dashboards/toolroom.yaml). Commit the result with its source.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dashboardFile, dashboards } from './dashboards';

export const DASHBOARD_DIR = path.resolve(__dirname, '../../../grafana/provisioning/dashboards/toolroom');

if (require.main === module) {
  for (const { file, json } of dashboards()) fs.writeFileSync(path.join(DASHBOARD_DIR, file), dashboardFile(json));
  console.log(`wrote ${dashboards().length} dashboards to ${DASHBOARD_DIR}`);
}
