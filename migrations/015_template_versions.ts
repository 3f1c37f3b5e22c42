import type { Knex } from 'knex';

// Checklist templates are versioned (issue 14): editing the items of a template an inspection was
// recorded with makes a new version, so what was checked stays what the inspection points at. The
// template row keeps its id and code (PM plans and flows name it) and holds the newest version;
// inspection_template_versions keeps every version's items. Which tools a template applies to: none
// listed means all of them.
//
// Whether an edit makes a new version is core's rule (core/inspections/templates.ts); the triggers
// only keep the books, whoever writes: the template row's items are saved as its version's, and an
// inspection written without a version gets the template's newest.
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE inspection_templates ADD COLUMN version integer NOT NULL DEFAULT 1');
  await knex.raw(`CREATE TABLE inspection_template_versions (
    template_id integer NOT NULL REFERENCES inspection_templates(id),
    version integer NOT NULL CONSTRAINT inspection_template_versions_version_check CHECK (version >= 1),
    items jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (template_id, version)
  )`);
  await knex.raw(`INSERT INTO inspection_template_versions (template_id, version, items, created_at)
    SELECT id, 1, items, created_at FROM inspection_templates`);

  await knex.raw(`CREATE FUNCTION inspection_template_version_save() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO inspection_template_versions (template_id, version, items) VALUES (NEW.id, NEW.version, NEW.items)
        ON CONFLICT (template_id, version) DO UPDATE SET items = EXCLUDED.items;
      RETURN NULL;
    END $$`);
  await knex.raw(`CREATE TRIGGER inspection_template_version_save AFTER INSERT OR UPDATE OF items, version ON inspection_templates
    FOR EACH ROW EXECUTE FUNCTION inspection_template_version_save()`);

  await knex.raw('ALTER TABLE inspections ADD COLUMN template_version integer NOT NULL DEFAULT 1');
  await knex.raw('ALTER TABLE inspections ALTER COLUMN template_version DROP DEFAULT');
  await knex.raw(`CREATE FUNCTION inspection_template_version_of() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.template_version IS NULL THEN
        NEW.template_version := (SELECT version FROM inspection_templates WHERE id = NEW.template_id);
      END IF;
      RETURN NEW;
    END $$`);
  await knex.raw(`CREATE TRIGGER inspection_template_version_of BEFORE INSERT ON inspections
    FOR EACH ROW EXECUTE FUNCTION inspection_template_version_of()`);
  await knex.raw(`ALTER TABLE inspections ADD CONSTRAINT inspections_template_version_fk
    FOREIGN KEY (template_id, template_version) REFERENCES inspection_template_versions(template_id, version)`);

  await knex.raw(`CREATE TABLE inspection_template_tools (
    template_id integer NOT NULL REFERENCES inspection_templates(id),
    tool_id integer NOT NULL REFERENCES tools(id),
    PRIMARY KEY (template_id, tool_id)
  )`);
  await knex.raw('CREATE INDEX inspection_template_tools_tool_idx ON inspection_template_tools (tool_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE inspection_template_tools');
  await knex.raw('DROP TRIGGER inspection_template_version_of ON inspections');
  await knex.raw('DROP FUNCTION inspection_template_version_of()');
  await knex.raw('ALTER TABLE inspections DROP CONSTRAINT inspections_template_version_fk');
  await knex.raw('ALTER TABLE inspections DROP COLUMN template_version');
  await knex.raw('DROP TRIGGER inspection_template_version_save ON inspection_templates');
  await knex.raw('DROP FUNCTION inspection_template_version_save()');
  await knex.raw('DROP TABLE inspection_template_versions');
  await knex.raw('ALTER TABLE inspection_templates DROP COLUMN version');
}
