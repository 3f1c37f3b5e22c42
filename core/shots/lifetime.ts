import type { Knex } from 'knex';

/** A tool's count after shots were added. */
export interface ToolCount {
  assetNumber: string;
  lifetimeShots: number;
}

/**
 * Add shots to tools and to their active cavities (a blocked cavity makes no parts), inside the
 * caller's transaction: how a counted reading and an accepted held one reach the tool. Tools are
 * locked in id order, the order of every writer of tools, FOR NO KEY UPDATE, the lock an UPDATE of
 * a non-key column takes: FOR UPDATE would wait on the key-share locks that inserting readings
 * (foreign key to tools) leaves, and two such writers would deadlock. Counting is not an edit:
 * version and updated_at stay, so nobody's open form goes stale. Returns the counts after.
 */
export async function addShots(trx: Knex.Transaction, perTool: Map<number, number>): Promise<Map<number, ToolCount>> {
  const out = new Map<number, ToolCount>();
  if (!perTool.size) return out;
  const adds = JSON.stringify([...perTool].map(([id, add]) => ({ id, add })));
  await trx('tools').whereIn('id', [...perTool.keys()]).orderBy('id').forNoKeyUpdate().select('id');
  // Tools and their cavities in one statement; the rows are ours already.
  const { rows } = (await trx.raw(
    `WITH v AS (SELECT * FROM jsonb_to_recordset(?::jsonb) AS v(id int, add bigint)),
          cavities AS (UPDATE tool_cavities c SET lifetime_shots = c.lifetime_shots + v.add FROM v WHERE c.tool_id = v.id AND c.state = 'active')
     UPDATE tools t SET lifetime_shots = t.lifetime_shots + v.add FROM v WHERE t.id = v.id RETURNING t.id, t.asset_number, t.lifetime_shots`,
    [adds],
  )) as { rows: { id: number; asset_number: string; lifetime_shots: number | string }[] };
  for (const r of rows) out.set(r.id, { assetNumber: r.asset_number, lifetimeShots: Number(r.lifetime_shots) });
  return out;
}
