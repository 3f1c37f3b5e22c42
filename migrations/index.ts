import type { Knex } from 'knex';
import * as m001 from './001_registry';
import * as m002 from './002_pm_and_shots';
import * as m003 from './003_inspections_failures_actions';
import * as m004 from './004_photos_audit_outbox';
import * as m005 from './005_list_indexes';
import * as m006 from './006_held_review';
import * as m007 from './007_accounts';
import * as m008 from './008_audit_chain';
import * as m009 from './009_outbox_line';
import * as m010 from './010_tool_search_trigram';
import * as m011 from './011_photos';
import * as m012 from './012_retention';
import * as m013 from './013_kpi';
import * as m014 from './014_notifications';
import * as m015 from './015_template_versions';
import * as m016 from './016_photo_upload_key';
import * as m017 from './017_audit_anchors';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Migrations are listed in code, not discovered on disk, so the compiled package and the
// tests run the same ordered list wherever the files end up.
const migrations: Record<string, Migration> = {
  '001_registry': m001,
  '002_pm_and_shots': m002,
  '003_inspections_failures_actions': m003,
  '004_photos_audit_outbox': m004,
  '005_list_indexes': m005,
  '006_held_review': m006,
  '007_accounts': m007,
  '008_audit_chain': m008,
  '009_outbox_line': m009,
  '010_tool_search_trigram': m010,
  '011_photos': m011,
  '012_retention': m012,
  '013_kpi': m013,
  '014_notifications': m014,
  '015_template_versions': m015,
  '016_photo_upload_key': m016,
  '017_audit_anchors': m017,
};

export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    return Object.keys(migrations);
  },
  getMigrationName(name) {
    return name;
  },
  async getMigration(name) {
    return migrations[name];
  },
};
