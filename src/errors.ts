/**
 * Typed errors with a stable machine-readable `code`. Lower layers (dicom, storage) throw these;
 * GraphQL turns them into typed results or `extensions.code`, HTTP routes into statuses.
 * Anything that is not an AppError is unexpected and gets masked before it reaches a client.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status the companion routes answer with. */
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes are not a DICOM data set we can read (garbage, truncated, malformed). */
export class InvalidDicomError extends AppError {
  constructor(message: string) {
    super('INVALID_DICOM', message, 422);
  }
}

export class InvalidTagError extends AppError {
  constructor(input: string, reason?: string) {
    super(
      'INVALID_TAG',
      `Invalid tag ${JSON.stringify(input)}: ${reason ?? 'expected "(gggg,eeee)", "gggg,eeee", "ggggeeee" or a dictionary keyword such as "PatientID"'}`,
      400,
    );
  }
}

export class FileTooLargeError extends AppError {
  constructor(readonly maxBytes: number) {
    super('FILE_TOO_LARGE', `The file exceeds the upload limit of ${maxBytes} bytes`, 413);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found') {
    super('NOT_FOUND', message, 404);
  }
}

/** The file has no (7FE0,0010) Pixel Data element at top level. */
export class NoPixelDataError extends AppError {
  constructor() {
    super('NO_PIXEL_DATA', 'The file has no pixel data', 404);
  }
}

export class UnsupportedTransferSyntaxError extends AppError {
  constructor(readonly transferSyntaxUid: string, name?: string) {
    super(
      'UNSUPPORTED_TRANSFER_SYNTAX',
      `No pixel decoder for transfer syntax ${transferSyntaxUid}${name ? ` (${name})` : ''}`,
      415,
    );
  }
}

/** Image attributes are missing or contradict the pixel data (e.g. no Rows, pixel data too short). */
export class InconsistentImageError extends AppError {
  constructor(message: string) {
    super('INCONSISTENT_IMAGE', message, 422);
  }
}

/** Compressed pixel data cannot be decoded: corrupt or truncated codestream, or a frame that does not match the image attributes. */
export class InvalidPixelDataError extends AppError {
  constructor(message: string) {
    super('INVALID_PIXEL_DATA', message, 422);
  }
}

/** The image is larger than the server is configured to render (MAX_RENDER_PIXELS). */
export class ImageTooLargeError extends AppError {
  constructor(pixels: number, maxPixels: number) {
    super('IMAGE_TOO_LARGE', `The image has ${pixels} pixels (Rows × Columns × Frames); this server renders at most ${maxPixels}`, 422);
  }
}

export class FrameOutOfRangeError extends AppError {
  constructor(frame: number, frames: number) {
    super('FRAME_OUT_OF_RANGE', `Frame ${frame} is out of range: the image has ${frames} frame(s), numbered from 1`, 400);
  }
}

/** A request argument is malformed (bad window, bad frame number, …). */
export class InvalidArgumentError extends AppError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message, 400);
  }
}

/** A render ran past RENDER_TIMEOUT_MS; its worker was terminated. */
export class RenderTimeoutError extends AppError {
  constructor(timeoutMs: number) {
    super('RENDER_TIMEOUT', `Rendering took longer than the server's limit of ${timeoutMs} ms and was stopped`, 503);
  }
}

/** A render needed more heap than RENDER_MAX_HEAP_MB; its worker was terminated (the server stays up). */
export class RenderOutOfMemoryError extends AppError {
  constructor(maxHeapMb: number) {
    super('RENDER_OUT_OF_MEMORY', `Rendering needed more memory than the server's limit of ${maxHeapMb} MiB and was stopped`, 422);
  }
}

/** Every render worker is busy and the queue of waiting renders is full (RENDER_QUEUE). */
export class RenderBusyError extends AppError {
  constructor() {
    super('RENDER_BUSY', 'The server is rendering too many images right now; retry shortly', 503);
  }
}

/** Why a ZIP archive (or one of its entries) was not unpacked. */
export type ArchiveErrorCode =
  /** Not a readable ZIP, or an entry that is encrypted, uses an unsupported method, or inflates to other than its declared size. */
  | 'INVALID_ARCHIVE'
  /** Declared or inflated sizes over MAX_ARCHIVE_BYTES, or a compression ratio over MAX_ZIP_RATIO: a zip bomb. */
  | 'ARCHIVE_TOO_LARGE'
  /** More entries than MAX_FILES_PER_REQUEST leaves for this request. */
  | 'TOO_MANY_FILES'
  /** `uploadDicom` got an archive that does not hold exactly one file: `uploadDicoms` takes it. */
  | 'ARCHIVE_NEEDS_BATCH';

/** A ZIP archive that was not unpacked, or one entry of it; nothing of what it names was stored. */
export class ArchiveError extends AppError {
  constructor(code: ArchiveErrorCode, message: string) {
    super(code, message, code === 'INVALID_ARCHIVE' || code === 'ARCHIVE_NEEDS_BATCH' ? 422 : 413);
  }
}

/** The caller may not do this (e.g. a non-admin asking for the audit trail). */
export class ForbiddenError extends AppError {
  constructor(message = 'Forbidden') {
    super('FORBIDDEN', message, 403);
  }
}

/** A pagination cursor that this server did not issue for this ordering (or that is corrupt). */
export class InvalidCursorError extends AppError {
  constructor(reason: string) {
    super('INVALID_CURSOR', `Invalid cursor: ${reason}. Use a cursor from pageInfo or an edge of the same connection and orderBy field`, 400);
  }
}
