import { readFileSync } from 'node:fs';
import { type GraphQLField, type GraphQLObjectType, isInterfaceType, isObjectType, isUnionType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printSchemaFile } from '../../src/graphql/print-schema.js';
import { schema } from '../../src/graphql/schema.js';

/** "name(arg: Type = default): Type", without descriptions, as the contract is written. */
function signature(field: GraphQLField<unknown, unknown>): string {
  const args = field.args.map((a) => `${a.name}: ${String(a.type)}${a.defaultValue !== undefined ? ` = ${JSON.stringify(a.defaultValue)}` : ''}`);
  return `${field.name}${args.length ? `(${args.join(', ')})` : ''}: ${String(field.type)}`;
}

function fieldsOf(typeName: string): string[] {
  const type = schema.getType(typeName);
  if (!isObjectType(type) && !isInterfaceType(type)) throw new Error(`${typeName} is not an object or interface type`);
  return Object.values((type as GraphQLObjectType).getFields()).map(signature);
}

describe('schema.graphql', () => {
  it('is the printed Pothos schema (run `npm run schema` after changing types)', () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printSchemaFile());
  });

  it('keeps the contract names and types clients depend on', () => {
    expect(schema.getType('Upload')).toBeDefined();
    expect(fieldsOf('Error')).toEqual(expect.arrayContaining(['message: String!', 'code: String!']));
    expect(fieldsOf('Mutation')).toContain('uploadDicom(file: Upload!): UploadDicomResult!');
    const union = schema.getType('UploadDicomResult');
    // ArchiveError joined the union with ZIP uploads (an additive change: it implements Error)
    expect(isUnionType(union) && union.getTypes().map((t) => t.name).sort()).toEqual(['ArchiveError', 'FileTooLargeError', 'InvalidDicomError', 'UploadDicomSuccess']);
    expect(fieldsOf('Mutation')).toContain('uploadDicoms(files: [Upload!]!): [UploadDicomResult!]!');
    expect(fieldsOf('Subscription')).toEqual(
      expect.arrayContaining(['dicomFileAdded(studyInstanceUid: String): DicomFile!', 'dicomFileDeleted(studyInstanceUid: String): DeletedDicomFile!']),
    );
    expect(fieldsOf('UploadDicomSuccess')).toEqual(expect.arrayContaining(['file: DicomFile!', 'duplicate: Boolean!']));
    expect(fieldsOf('Query')).toContain('dicomFile(id: ID!): DicomFile');
    const dicomFile = schema.getType('DicomFile') as GraphQLObjectType;
    expect(dicomFile.getInterfaces().map((i) => i.name)).toContain('Node');
    expect(fieldsOf('DicomFile')).toEqual(
      expect.arrayContaining([
        'id: ID!',
        'filename: String!',
        'byteSize: SafeInt!',
        'sha256: String!',
        'uploadedAt: DateTime!',
        'transferSyntaxUid: String',
        'sopClassUid: String',
        'sopInstanceUid: String',
        'patientId: String',
        'patientName: String',
        'studyInstanceUid: String',
        'seriesInstanceUid: String',
        'modality: String',
        'rows: Int',
        'columns: Int',
        'numberOfFrames: Int',
        'attribute(tag: String!): DicomAttribute',
        'attributes(tags: [String!]): [DicomAttribute!]!',
        'pngUrl(frame: Int = 1, window: WindowInput, maxSize: Int, bitDepth: Int = 8): String',
        'downloadUrl: String!',
        'dicomJson: JSON!',
      ]),
    );
    expect(fieldsOf('DicomAttribute')).toEqual(
      expect.arrayContaining(['tag: String!', 'keyword: String', 'name: String', 'vr: String!', 'vm: Int!', 'value: JSON', 'text: String', 'items: [DicomDataset!]']),
    );
    expect(fieldsOf('DicomDataset')).toEqual(
      expect.arrayContaining(['attribute(tag: String!): DicomAttribute', 'attributes(tags: [String!]): [DicomAttribute!]!']),
    );
    // Accounts and API tokens (issue 5)
    expect(fieldsOf('Query')).toEqual(expect.arrayContaining(['viewer: Viewer!', 'apiTokens: [ApiToken!]!']));
    expect(fieldsOf('Viewer')).toEqual(['name: String!', 'isAdmin: Boolean!']);
    expect(fieldsOf('Mutation')).toEqual(
      expect.arrayContaining(['createApiToken(input: CreateApiTokenInput): CreateApiTokenPayload!', 'revokeApiToken(id: ID!): RevokeApiTokenResult!']),
    );
    expect(fieldsOf('CreateApiTokenPayload')).toEqual(['token: String!', 'apiToken: ApiToken!']);
    expect(fieldsOf('ApiToken')).toEqual([
      'id: ID!',
      'label: String',
      'createdAt: DateTime!',
      'expiresAt: DateTime',
      'lastUsedAt: DateTime',
      'revokedAt: DateTime',
      'revoked: Boolean!',
    ]);
    const revokeResult = schema.getType('RevokeApiTokenResult');
    expect(isUnionType(revokeResult) && revokeResult.getTypes().map((t) => t.name).sort()).toEqual(['NotFoundError', 'RevokeApiTokenSuccess']);
    const windowInput = schema.getType('WindowInput');
    expect(windowInput && 'getFields' in windowInput && Object.values(windowInput.getFields()).map((f) => `${f.name}: ${String(f.type)}`)).toEqual([
      'center: Float!',
      'width: Float!',
    ]);
  });
});
