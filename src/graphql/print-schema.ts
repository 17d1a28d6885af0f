import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './schema.js';

/** The committed SDL: sorted, so that moving code around does not reorder it. */
export function printSchemaFile(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
