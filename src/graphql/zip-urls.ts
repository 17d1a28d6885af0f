/** zipUrl on Series and Study (route: src/http/zip-route.ts); the types are catalog-refs.ts's. */
import { builder } from './builder.js';
import { SeriesRef, StudyRef } from './catalog-refs.js';
import { zipPath } from './file-urls.js';
import { signedUrl } from './signed-url.js';

builder.objectField(SeriesRef, 'zipUrl', (t) =>
  t.string({
    description:
      'Absolute, signed URL (expires: SIGNED_URL_TTL_SECONDS) of a ZIP of the series (current version of each instance), streamed: entries "<SeriesNumber>_<SeriesDescription>/<InstanceNumber>_<SOPInstanceUID>.dcm".',
    resolve: (s, _args, ctx) => signedUrl(ctx, zipPath('series', s.id)),
  }),
);

builder.objectField(StudyRef, 'zipUrl', (t) =>
  t.string({
    description:
      'Absolute, signed URL (expires: SIGNED_URL_TTL_SECONDS) of a ZIP of the study (current version of each instance, one folder per series), streamed: entries "<SeriesNumber>_<SeriesDescription>/<InstanceNumber>_<SOPInstanceUID>.dcm".',
    resolve: (s, _args, ctx) => signedUrl(ctx, zipPath('studies', s.id)),
  }),
);
