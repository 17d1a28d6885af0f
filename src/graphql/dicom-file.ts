/** DicomFile (a stored instance) and its root field `dicomFile(id:)`. */
import { decodeGlobalID } from '@pothos/plugin-relay';
import type { DicomDataset, DicomElement } from '../dicom/dataset.js';
import { ElementList } from '../dicom/dataset.js';
import { MAX_THUMBNAIL_SIZE } from '../dicom/resize.js';
import type { DicomFileRow } from '../storage/schema.js';
import { builder } from './builder.js';
import type { Context } from './context.js';
import { DicomAttributeRef, findAttribute, listAttributes } from './dicom-attribute.js';
import { checkPngArguments, contentVersion, pngPath } from './png-url.js';
import { signedUrl } from './signed-url.js';
import { WindowInput } from './window-input.js';

export const DicomFileRef = builder.objectRef<DicomFileRow>('DicomFile');

/**
 * The data sets an attribute query searches: file meta, the header (everything before Pixel
 * Data), and Pixel Data itself described from the index (its bytes are never read here).
 */
async function headerDatasets(file: DicomFileRow, ctx: Context): Promise<DicomDataset[]> {
  const header = await ctx.headers.get(file);
  ctx.audit.record('READ', file.id);
  const sets: DicomDataset[] = [header.meta, header.dataset];
  if (file.hasPixelData && file.pixelDataVr) {
    const pixelData: DicomElement = { tag: '7FE00010', vr: file.pixelDataVr, values: [], length: file.pixelDataLength ?? 0 };
    sets.push(new ElementList([pixelData]));
  }
  return sets;
}

builder.node(DicomFileRef, {
  description: 'A stored DICOM file (one instance). Header attributes are read lazily, on request.',
  id: { resolve: (f) => f.id },
  loadOne: (id, ctx) => ctx.files.findById(id) ?? null,
  fields: (t) => ({
    filename: t.exposeString('filename', { description: 'The name the client sent (metadata only).' }),
    byteSize: t.field({ type: 'SafeInt', resolve: (f) => f.byteSize }),
    sha256: t.exposeString('sha256', { description: 'Hex SHA-256 of the stored bytes.' }),
    uploadedAt: t.field({ type: 'DateTime', resolve: (f) => f.uploadedAt }),
    transferSyntaxUid: t.exposeString('transferSyntaxUid', { nullable: true, description: '(0002,0010); null without file meta.' }),
    sopClassUid: t.exposeString('sopClassUid', { nullable: true }),
    sopInstanceUid: t.exposeString('sopInstanceUid', { nullable: true }),
    patientId: t.exposeString('patientId', { nullable: true }),
    patientName: t.exposeString('patientName', { nullable: true, description: 'Alphabetic group of (0010,0010), trailing "^" delimiters removed (PS3.5 6.2.1).' }),
    studyInstanceUid: t.exposeString('studyInstanceUid', { nullable: true }),
    seriesInstanceUid: t.exposeString('seriesInstanceUid', { nullable: true }),
    modality: t.exposeString('modality', { nullable: true }),
    rows: t.exposeInt('rows', { nullable: true }),
    columns: t.exposeInt('columns', { nullable: true }),
    numberOfFrames: t.exposeInt('numberOfFrames', { nullable: true, description: '(0028,0008), or 1 for a single-frame image.' }),
    hasPixelData: t.exposeBoolean('hasPixelData'),
    attribute: t.field({
      type: DicomAttributeRef,
      nullable: true,
      description: 'One header attribute; null when the element is absent.',
      args: {
        tag: t.arg.string({ required: true, description: '"(0010,0020)", "0010,0020", "00100020" (any case) or a keyword such as "PatientID".' }),
      },
      resolve: async (file, { tag }, ctx) => {
        findAttribute([], tag); // a malformed tag fails before the file is opened
        return findAttribute(await headerDatasets(file, ctx), tag);
      },
    }),
    attributes: t.field({
      type: [DicomAttributeRef],
      description: 'The listed attributes that are present (in the order asked), or every top-level element when `tags` is omitted.',
      args: { tags: t.arg.stringList({ required: false }) },
      resolve: async (file, { tags }, ctx) => {
        listAttributes([], tags); // validate tags first
        return listAttributes(await headerDatasets(file, ctx), tags);
      },
    }),
    pngUrl: t.string({
      nullable: true,
      description:
        'Absolute, signed URL of a PNG rendering of one frame; null when the file has no pixel data. The URL carries the content version (`v`), so its response is cacheable (until the URL expires: SIGNED_URL_TTL_SECONDS; then 403). Works in `<img src>` without headers; any change to it answers 403.',
      args: {
        frame: t.arg.int({ defaultValue: 1, required: false, description: '1-based frame number (default 1).' }),
        window: t.arg({ type: WindowInput, required: false, description: 'VOI window; default: the file\'s first window, else min–max.' }),
        maxSize: t.arg.int({
          required: false,
          description: `Fit the image within maxSize × maxSize pixels keeping its aspect ratio (1..${MAX_THUMBNAIL_SIZE}; area averaging; never enlarged).`,
        }),
        bitDepth: t.arg.int({
          defaultValue: 8,
          required: false,
          description: '8 (default) or 16: a 16-bit gray PNG keeping the full precision of the windowed values (0..65535). Colour images stay 8-bit RGB.',
        }),
      },
      resolve: (file, { frame, window, maxSize, bitDepth }, ctx) => {
        if (!file.hasPixelData) return null;
        const options = checkPngArguments({ frame: frame ?? 1, window, maxSize, bitDepth }, file);
        return signedUrl(ctx, pngPath({ fileId: file.id, version: contentVersion(file.sha256), ...options }));
      },
    }),
  }),
});

builder.queryField('dicomFile', (t) =>
  t.field({
    type: DicomFileRef,
    nullable: true,
    description: 'A stored file by its id; null when unknown.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => {
      let decoded: { typename: string; id: string };
      try {
        decoded = decodeGlobalID(String(id));
      } catch {
        return null;
      }
      if (decoded.typename !== 'DicomFile') return null;
      return ctx.files.findById(decoded.id) ?? null;
    },
  }),
);
