/**
 * The row types declared once in core/db/tables.ts match the schema the migrations leave: every
 * table of `DomainTables` has exactly its columns, each nullable in the type where it is in the
 * database. Read with the TypeScript compiler from the source, compared with information_schema.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import * as ts from 'typescript';
import { backends } from '../support/db';

const SOURCE = path.resolve(__dirname, '../../../core/db/tables.ts');

/** table name → column → whether its type admits null, as tables.ts declares it. */
function declaredTables(): Map<string, Map<string, boolean>> {
  const program = ts.createProgram([SOURCE], { strict: true, noEmit: true, types: [] });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(SOURCE)!;
  const domain = file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'DomainTables');
  assert.ok(domain, 'DomainTables is declared');
  const tables = new Map<string, Map<string, boolean>>();
  for (const member of checker.getTypeAtLocation(domain).getProperties()) {
    const row = checker.getTypeOfSymbolAtLocation(member, domain);
    const columns = new Map<string, boolean>();
    for (const column of row.getProperties()) {
      const type = checker.getTypeOfSymbolAtLocation(column, domain);
      const nullable = type.isUnion() ? type.types.some((t) => t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Unknown)) : Boolean(type.flags & (ts.TypeFlags.Null | ts.TypeFlags.Unknown));
      columns.set(column.name, nullable);
    }
    tables.set(member.name, columns);
  }
  return tables;
}

describe('row types (core/db/tables.ts) against the migrated schema', function () {
  this.timeout(60_000);
  const backend = backends[0];

  it('every declared table has exactly its columns, null where the database allows it', async () => {
    const db = await backend.db();
    const declared = declaredTables();
    assert.ok(declared.size >= 17, `only ${declared.size} tables declared`);
    const { rows } = await db.raw<{ rows: { table_name: string; column_name: string; is_nullable: string }[] }>(
      'SELECT table_name, column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema()',
    );
    for (const [table, columns] of declared) {
      const actual = new Map(rows.filter((r) => r.table_name === table).map((r) => [r.column_name, r.is_nullable === 'YES']));
      assert.ok(actual.size > 0, `table ${table} does not exist`);
      assert.deepEqual([...columns.keys()].sort(), [...actual.keys()].sort(), `columns of ${table}`);
      for (const [column, nullable] of actual) {
        assert.equal(columns.get(column), nullable, `${table}.${column} is ${nullable ? '' : 'NOT '}NULL in the database`);
      }
    }
  });
});
