import type { Knex } from 'knex';

// Photos as evidence (issue 10): 004 made the table; this gives it what the module needs. Files are
// encrypted under TOOLROOM_DATA_DIR/photos, so the row names each file, the key that encrypted them
// (rotation) and the SHA-256 of the stored original; a photo is withdrawn (soft, with the reason),
// never deleted; an inspection photo may name the checklist item, an action photo before or after.
// No photo was ever written before this migration (nothing could), so tool_id can become required.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE photos
    ALTER COLUMN tool_id SET NOT NULL,
    ALTER COLUMN thumbnail_path SET NOT NULL,
    ALTER COLUMN width SET NOT NULL,
    ALTER COLUMN height SET NOT NULL,
    ADD COLUMN display_path text NOT NULL,
    ADD COLUMN annotated_path text,
    ADD COLUMN key_id text NOT NULL,
    ADD COLUMN inspection_item_key text,
    ADD COLUMN phase text,
    ADD COLUMN captured_at timestamptz,
    ADD COLUMN annotated_at timestamptz,
    ADD COLUMN annotated_by text,
    ADD COLUMN withdrawn_at timestamptz,
    ADD COLUMN withdrawn_by text,
    ADD COLUMN withdrawn_reason text,
    ADD COLUMN version integer NOT NULL DEFAULT 1,
    ADD CONSTRAINT photos_mime_type_check CHECK (mime_type IN ('image/jpeg','image/png','image/webp','image/heic')),
    ADD CONSTRAINT photos_item_check CHECK (inspection_item_key IS NULL OR entity = 'inspection'),
    ADD CONSTRAINT photos_phase_check CHECK (phase IS NULL OR (entity = 'action' AND phase IN ('before','after'))),
    ADD CONSTRAINT photos_withdrawn_check CHECK ((withdrawn_at IS NULL) = (withdrawn_reason IS NULL))`);
  // A tool's timeline shows the photos of its failures, inspections and actions too.
  await knex.raw('CREATE INDEX photos_tool_idx ON photos (tool_id, id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX photos_tool_idx');
  await knex.raw(`ALTER TABLE photos
    DROP CONSTRAINT photos_withdrawn_check,
    DROP CONSTRAINT photos_phase_check,
    DROP CONSTRAINT photos_item_check,
    DROP CONSTRAINT photos_mime_type_check,
    DROP COLUMN version,
    DROP COLUMN withdrawn_reason,
    DROP COLUMN withdrawn_by,
    DROP COLUMN withdrawn_at,
    DROP COLUMN annotated_by,
    DROP COLUMN annotated_at,
    DROP COLUMN captured_at,
    DROP COLUMN phase,
    DROP COLUMN inspection_item_key,
    DROP COLUMN key_id,
    DROP COLUMN annotated_path,
    DROP COLUMN display_path,
    ALTER COLUMN height DROP NOT NULL,
    ALTER COLUMN width DROP NOT NULL,
    ALTER COLUMN thumbnail_path DROP NOT NULL,
    ALTER COLUMN tool_id DROP NOT NULL`);
}
