/**
 * Reads the marker segments at the head of a JPEG (ITU-T T.81 Annex B) or JPEG-LS (ITU-T T.87
 * Annex C) codestream, up to the first scan header: enough to check a frame against the image
 * attributes before it reaches the decoder, and to know how its samples come out.
 */
import { InvalidPixelDataError } from '../../errors.js';

export interface JpegHeader {
  /** The SOFn marker's second byte, e.g. 0xC0 baseline, 0xC3 lossless, 0xF7 JPEG-LS. */
  readonly frameMarker: number;
  /** Sample precision P in bits. */
  readonly precision: number;
  /** Number of lines Y (0: defined later by a DNL marker). */
  readonly rows: number;
  /** Samples per line X. */
  readonly columns: number;
  /** Number of image components Nf. */
  readonly components: number;
  /** Components in the first scan (Ns). */
  readonly scanComponents: number;
  /** JPEG-LS only: interleave mode of the first scan (0 none, 1 line, 2 sample). */
  readonly interleaveMode: number;
}

const SOI = 0xd8;
const SOS = 0xda;
const EOI = 0xd9;

/**
 * Parses the header of a codestream whose frame header is one of `frameMarkers`. Throws
 * InvalidPixelDataError when it is not such a codestream.
 */
export function readJpegHeader(bytes: Uint8Array, frameMarkers: ReadonlySet<number>, codec: string): JpegHeader {
  const fail = (why: string): never => {
    throw new InvalidPixelDataError(`${codec} codestream: ${why}`);
  };
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) fail('does not start with an SOI marker (FFD8)');
  let pos = 2;
  let frame: Omit<JpegHeader, 'scanComponents' | 'interleaveMode'> | undefined;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) fail(`expected a marker at byte ${pos}, found ${bytes[pos]!.toString(16).padStart(2, '0')}`);
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === EOI) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2; // TEM, RSTn: no length
      continue;
    }
    const length = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    const body = pos + 4;
    if (length < 2 || pos + 2 + length > bytes.length) fail(`marker FF${marker.toString(16).toUpperCase()} at byte ${pos} runs past the end of the data`);
    if (frameMarkers.has(marker) && !frame) {
      if (length < 8) fail('frame header too short');
      frame = {
        frameMarker: marker,
        precision: bytes[body]!,
        rows: (bytes[body + 1]! << 8) | bytes[body + 2]!,
        columns: (bytes[body + 3]! << 8) | bytes[body + 4]!,
        components: bytes[body + 5]!,
      };
    } else if (marker === SOS) {
      if (!frame) fail('scan before any frame header');
      const ns = bytes[body]!;
      // JPEG-LS scan header: Ns, Ns × (Ci, Tmi), NEAR, ILV, …
      const ilv = bytes[body + 1 + 2 * ns + 1] ?? 0;
      return { ...frame!, scanComponents: ns, interleaveMode: ilv };
    }
    pos += 2 + length;
  }
  return fail(frame ? 'no scan header (SOS) after the frame header' : 'no frame header (SOF) before the end of the data');
}

/**
 * Checks the codestream's frame header against the image attributes (PS3.5 §8.2.1: they shall
 * match; a frame smaller than Rows × Columns is accepted as an unpadded edge tile) and returns the
 * size of the frame it codes.
 */
export function checkJpegHeader(
  header: JpegHeader,
  info: { rows: number; columns: number; samplesPerPixel: number; bitsAllocated: number },
  codec: string,
): { columns: number; rows: number } {
  const problems: string[] = [];
  // Y = 0: the number of lines comes in a DNL marker after the first scan (T.81 B.2.5); only Rows is known.
  const rows = header.rows === 0 ? info.rows : header.rows;
  if (header.columns < 1 || header.columns > info.columns || rows > info.rows) {
    problems.push(`is ${header.columns}×${header.rows}, the image ${info.columns}×${info.rows}`);
  }
  if (header.components !== info.samplesPerPixel) problems.push(`has ${header.components} component(s), the image ${info.samplesPerPixel} sample(s) per pixel`);
  if (header.precision < 2 || header.precision > 16 || header.precision > Math.max(8, info.bitsAllocated)) {
    problems.push(`has ${header.precision}-bit samples, the image allocates ${info.bitsAllocated} bits`);
  }
  if (problems.length) throw new InvalidPixelDataError(`${codec} codestream does not match the image attributes: it ${problems.join('; it ')}`);
  return { columns: header.columns, rows };
}

/**
 * The codestream ends with an EOI marker (FFD9), possibly followed by padding: fragments have even
 * length (PS3.5 A.4), and encoders pad with 00 or, as orthanc-tests' 1.2.840.10008.1.2.4.81.dcm, FF.
 */
export function endsWithEoi(bytes: Uint8Array): boolean {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0 || bytes[end - 1] === 0xff)) end--;
  return end >= 2 && bytes[end - 2] === 0xff && bytes[end - 1] === EOI;
}
