/**
 * JPEG-LS (ITU-T T.87), lossless and near-lossless (PS3.5 A.4.3), decoded by CharLS (inside the
 * dcmjs-codecs WebAssembly module).
 */
import { InvalidPixelDataError } from '../../errors.js';
import type { ImageInfo } from '../image-info.js';
import { type DecodedFrame, decodedSamplesToStoredValues, type FrameCodec, unconvertedPhotometric } from './codec.js';
import { checkJpegHeader, endsWithEoi, readJpegHeader } from './jpeg-markers.js';
import { decodeNative } from './native-codecs.js';

/** SOF55, the JPEG-LS frame header (T.87 C.2.2). */
const JPEG_LS_FRAME_MARKERS = new Set([0xf7]);

/**
 * Decodes one JPEG-LS frame. Samples come out as coded: no colour transform (PS3.5 A.4.3), and one
 * plane per component when the scan is not interleaved (ILV 0), which is then interleaved here.
 */
export function decodeJpegLsFrame(encoded: Uint8Array, info: ImageInfo): DecodedFrame {
  const header = readJpegHeader(encoded, JPEG_LS_FRAME_MARKERS, 'JPEG-LS');
  const size = checkJpegHeader(header, info, 'JPEG-LS');
  // CharLS reads past the end of a codestream cut short before its EOI and spends seconds (8–9 s
  // for a 512×512 frame) before failing; a complete one always ends with EOI (T.87 C.1.4).
  if (!endsWithEoi(encoded)) throw new InvalidPixelDataError('JPEG-LS codestream is truncated: it does not end with an EOI marker (FFD9)');
  const bytesPerSample = header.precision > 8 ? 2 : 1;
  const out = decodeNative('DecodeJpegLs', encoded, {
    columns: size.columns,
    rows: size.rows,
    bitsAllocated: bytesPerSample * 8,
    bitsStored: header.precision,
    samplesPerPixel: info.samplesPerPixel,
    pixelRepresentation: info.pixelRepresentation,
    planarConfiguration: 0,
    photometricInterpretation: info.photometricInterpretation,
  });
  const planar = header.components > 1 && header.interleaveMode === 0;
  const values = decodedSamplesToStoredValues(out.bytes, bytesPerSample, info, { codec: 'JPEG-LS', planar, precision: header.precision, size });
  return { values, photometricInterpretation: unconvertedPhotometric(info) };
}

export const jpegLsCodec: FrameCodec = { name: 'JPEG-LS', endsWithEoi: true, decode: decodeJpegLsFrame };
