/** SchemaBuilder setup only; each type lives in its own file (Pothos app layout). */
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, JSONResolver, LocalDateResolver, SafeIntResolver } from 'graphql-scalars';
import { GraphQLUpload } from 'graphql-upload-ts';
import type { FileUpload } from 'graphql-upload-ts';
import type { Context } from './context.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  // Fields are non-null unless declared nullable: the contract's `String!` stays `String!`.
  DefaultFieldNullability: false;
  Scalars: {
    Upload: { Input: Promise<FileUpload>; Output: never };
    DateTime: { Input: Date; Output: Date };
    /** "YYYY-MM-DD" (a DICOM DA date in ISO 8601 form). */
    LocalDate: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
    SafeInt: { Input: number; Output: number };
  };
}>({
  defaultFieldNullability: false,
  plugins: [ErrorsPlugin, RelayPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
  },
  errors: {},
});

builder.addScalarType('Upload', GraphQLUpload as never);
builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('LocalDate', LocalDateResolver);
builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('SafeInt', SafeIntResolver);

builder.queryType({});
builder.mutationType({});
