/** The uploadDicom mutation and its result union. */
import { FileTooLargeError, InvalidDicomError } from '../errors.js';
import type { DicomFileRow } from '../storage/schema.js';
import { builder } from './builder.js';
import { DicomFileRef } from './dicom-file.js';

interface UploadSuccess {
  file: DicomFileRow;
  duplicate: boolean;
}

const UploadDicomSuccess = builder.objectRef<UploadSuccess>('UploadDicomSuccess').implement({
  description: 'The file is stored (or was already: same bytes give the same DicomFile).',
  fields: (t) => ({
    file: t.field({ type: DicomFileRef, resolve: (r) => r.file }),
    duplicate: t.exposeBoolean('duplicate', { description: 'True when identical bytes were already stored.' }),
  }),
});

builder.mutationField('uploadDicom', (t) =>
  t.field({
    type: UploadDicomSuccess,
    description: 'Upload one DICOM file (GraphQL multipart request; send the header `apollo-require-preflight: true`).',
    errors: {
      types: [InvalidDicomError, FileTooLargeError],
      directResult: true,
      union: { name: 'UploadDicomResult' },
    },
    args: { file: t.arg({ type: 'Upload', required: true }) },
    resolve: async (_root, { file }, ctx) => {
      const upload = await file;
      return ctx.ingest.ingest(() => upload.createReadStream(), upload.filename);
    },
  }),
);
