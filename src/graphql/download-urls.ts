/** DicomFile.downloadUrl (route: src/http/download-route.ts). */
import { builder } from './builder.js';
import { DicomFileRef } from './dicom-file.js';
import { downloadPath } from './file-urls.js';
import { signedUrl } from './signed-url.js';

builder.objectField(DicomFileRef, 'downloadUrl', (t) =>
  t.string({
    description:
      'Absolute, signed URL of the stored bytes exactly as uploaded (application/dicom, attachment named after the original file name; ETag = SHA-256; byte ranges supported). Works without headers until it expires (SIGNED_URL_TTL_SECONDS), then answers 403.',
    resolve: (file, _args, ctx) => signedUrl(ctx, downloadPath(file.id)),
  }),
);
