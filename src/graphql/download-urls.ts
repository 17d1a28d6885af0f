/** DicomFile.downloadUrl (route: src/http/download-route.ts). */
import { builder } from './builder.js';
import { DicomFileRef } from './dicom-file.js';
import { downloadPath } from './file-urls.js';

builder.objectField(DicomFileRef, 'downloadUrl', (t) =>
  t.string({
    description:
      'Absolute URL of the stored bytes exactly as uploaded (application/dicom, attachment named after the original file name; ETag = SHA-256; byte ranges supported).',
    resolve: (file, _args, ctx) => ctx.baseUrl + downloadPath(file.id),
  }),
);
