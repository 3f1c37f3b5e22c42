/**
 * The columns an update changes: for each input field that was given (not undefined), its column
 * and value. `null` is a value (it clears the column); an absent field leaves the column alone.
 */
export function changedColumns(input: object, columns: Record<string, string>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(columns)) {
    const value = (input as Record<string, unknown>)[field];
    if (value !== undefined) patch[column] = value;
  }
  return patch;
}
