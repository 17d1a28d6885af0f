/**
 * The file graphql-upload-ts (fs-capacitor) spools an upload to. Once the capacitor has finished
 * (every byte of the upload written to it), a worker digests and validates that file and the blob
 * store hard-links it under its content address: the event loop neither reads nor writes the
 * bytes again (src/storage/zip-ingest.ts, dicom-ingest.ts).
 */
import type { FileUpload } from 'graphql-upload-ts';

/**
 * The spool file's path: a private field of the pinned version, checked at run time (null → the
 * upload is read as a stream, as before); test/unit/upload-spool.test.ts pins it.
 */
export function spoolPathOf(upload: FileUpload): string | null {
  const path = (upload.capacitor as unknown as { _path?: unknown } | undefined)?._path;
  return typeof path === 'string' ? path : null;
}

/**
 * Resolves with the spool file's path once the whole upload is in it (the capacitor's `finish`:
 * every write has completed), or null when the path is unknown. Rejects with the upload's own
 * error (graphql-upload-ts's 413 past the size limit, a disconnect) when it fails first.
 */
export function spooledFile(upload: FileUpload): Promise<string | null> {
  const capacitor = upload.capacitor as FileUpload['capacitor'] | undefined;
  if (!capacitor) return Promise.resolve(null);
  if (capacitor.writableFinished) return Promise.resolve(spoolPathOf(upload));
  if (capacitor.destroyed) return Promise.reject(uploadError(upload));
  return new Promise<string | null>((resolve, reject) => {
    const onFinish = () => {
      capacitor.off('close', onClose);
      resolve(spoolPathOf(upload));
    };
    const onClose = () => {
      capacitor.off('finish', onFinish);
      reject(uploadError(upload));
    };
    capacitor.once('finish', onFinish);
    capacitor.once('close', onClose);
  });
}

/** Why a spool ended early: graphql-upload-ts keeps the error for createReadStream() to throw. */
function uploadError(upload: FileUpload): unknown {
  try {
    upload.createReadStream().destroy();
  } catch (err) {
    return err;
  }
  return new Error('the upload ended before its file was complete');
}
