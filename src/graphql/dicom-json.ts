/** DicomFile.dicomJson: the whole header in the DICOM JSON Model (PS3.18 F.2). */
import { DEFAULT_INLINE_BINARY_MAX_BYTES, headerToDicomJson } from '../dicom/dicom-json.js';
import { builder } from './builder.js';
import { DicomFileRef } from './dicom-file.js';
import { bulkDataPath } from './file-urls.js';
import { signedUrl } from './signed-url.js';

builder.objectField(DicomFileRef, 'dicomJson', (t) =>
  t.field({
    type: 'JSON',
    description: `Every header attribute (file meta included) in the DICOM JSON Model (PS3.18 F.2): an object keyed by "GGGGEEEE", each { vr, Value } (PN as {Alphabetic, Ideographic, Phonetic}, AT as "GGGGEEEE", SQ as arrays of nested objects), { vr, InlineBinary } for binary values up to ${DEFAULT_INLINE_BINARY_MAX_BYTES} bytes, or { vr, BulkDataURI } for longer ones and for Pixel Data (GET it for the raw value bytes, little endian; the URI is signed and expires like pngUrl). Reads the header only (cached), never the pixel data.`,
    resolve: async (file, _args, ctx) => {
      const header = await ctx.headers.get(file);
      ctx.audit.record('READ', file.id);
      const pixelData = file.hasPixelData && file.pixelDataVr ? { vr: file.pixelDataVr, length: file.pixelDataLength ?? 0 } : null;
      return headerToDicomJson(header, pixelData, { bulkDataUri: (path) => signedUrl(ctx, bulkDataPath(file.id, path)) });
    },
  }),
);
