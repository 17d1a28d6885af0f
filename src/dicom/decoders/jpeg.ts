/**
 * JPEG (ITU-T T.81): baseline and extended (processes 1, 2 & 4: 8 and 12 bits) and lossless
 * (process 14, any predictor / SV1) — PS3.5 A.4.1 — decoded by IJG libjpeg as patched by dcmtk
 * (inside the dcmjs-codecs WebAssembly module).
 */
import type { ImageInfo } from '../image-info.js';
import { type DecodedFrame, decodedSamplesToStoredValues, type FrameCodec, unconvertedPhotometric } from './codec.js';
import { checkJpegHeader, readJpegHeader } from './jpeg-markers.js';
import { decodeNative } from './native-codecs.js';

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
const JPEG_FRAME_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/**
 * Decodes one JPEG frame. Three-component frames come out as RGB: libjpeg converts YCbCr to RGB
 * when the JFIF / Adobe markers or the component identifiers say the stream is YCbCr (T.81 has no
 * colour space of its own), which is what dcmtk does with +cgl and is right for the corpus's files
 * labelled RGB whose stream is YCbCr (PS3.5 §8.2.1: the photometric interpretation of lossy JPEG
 * describes the uncompressed source, the decoder output is what the codestream says).
 */
export function decodeJpegFrame(encoded: Uint8Array, info: ImageInfo): DecodedFrame {
  const header = readJpegHeader(encoded, JPEG_FRAME_MARKERS, 'JPEG');
  const size = checkJpegHeader(header, info, 'JPEG');
  // The decoder lays samples out BitsAllocated wide but writes 8-bit samples (P ≤ 8) one byte
  // apart whatever BitsAllocated says, so it is told the width the codestream really has.
  const bytesPerSample = header.precision > 8 ? 2 : 1;
  const colour = info.samplesPerPixel === 3;
  const out = decodeNative('DecodeJpeg', encoded, {
    columns: size.columns,
    rows: size.rows,
    bitsAllocated: bytesPerSample * 8,
    bitsStored: header.precision,
    samplesPerPixel: info.samplesPerPixel,
    pixelRepresentation: colour ? 0 : info.pixelRepresentation,
    planarConfiguration: 0,
    photometricInterpretation: info.photometricInterpretation,
    convertColorspaceToRgb: colour,
  });
  const values = decodedSamplesToStoredValues(out.bytes, bytesPerSample, info, { codec: 'JPEG', precision: header.precision, size });
  return { values, photometricInterpretation: colour ? out.photometricInterpretation : unconvertedPhotometric(info) };
}

export const jpegCodec: FrameCodec = { name: 'JPEG', endsWithEoi: true, decode: decodeJpegFrame };
