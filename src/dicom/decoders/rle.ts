/**
 * RLE Lossless (PS3.5 Annex G): per frame a 64-byte header with the number of segments and their
 * offsets, then one PackBits segment per byte of each sample, most significant byte first. The
 * header is checked here; the segments are decoded by dcmjs-codecs' RLE decoder, which trusts the
 * header (a crafted offset would make it read outside the frame).
 */
import { InvalidPixelDataError } from '../../errors.js';
import type { ImageInfo } from '../image-info.js';
import { toStoredValues, unpackUnits } from '../pixels.js';
import { type DecodedFrame, decodedSamplesToStoredValues, type FrameCodec, unconvertedPhotometric } from './codec.js';
import { decodeNative } from './native-codecs.js';

const HEADER_BYTES = 64;

/** Validates the RLE header (PS3.5 G.5): 1–15 segments, one per sample byte, offsets increasing inside the frame. */
export function readRleHeader(encoded: Uint8Array, expectedSegments: number): number[] {
  if (encoded.length < HEADER_BYTES) throw new InvalidPixelDataError(`RLE frame of ${encoded.length} bytes is shorter than its 64-byte header`);
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.length);
  const count = view.getUint32(0, true);
  if (count !== expectedSegments) {
    throw new InvalidPixelDataError(`RLE header declares ${count} segment(s); the image needs ${expectedSegments} (samples per pixel × bytes per sample, PS3.5 G.2)`);
  }
  const offsets: number[] = [];
  for (let i = 0; i < count; i++) {
    const offset = view.getUint32(4 + 4 * i, true);
    const previous = offsets[i - 1] ?? HEADER_BYTES - 1;
    if ((i === 0 && offset !== HEADER_BYTES) || offset <= previous || offset >= encoded.length) {
      throw new InvalidPixelDataError(`RLE segment ${i + 1} offset ${offset} is invalid (first must be 64, increasing, inside the ${encoded.length}-byte frame)`);
    }
    offsets.push(offset);
  }
  return offsets;
}

/** Decodes one RLE frame to stored values; colour comes out as stored (RLE has no colour transform), samples interleaved. */
export function decodeRleFrame(encoded: Uint8Array, info: ImageInfo): DecodedFrame {
  const { rows, columns, samplesPerPixel, bitsAllocated } = info;
  if (bitsAllocated === 1) {
    // One segment of packed bits (e.g. a segmentation): decode it as a byte row, then unpack.
    readRleHeader(encoded, 1);
    const pixels = rows * columns;
    const width = Math.ceil(pixels / 8);
    const out = decodeNative('DecodeRle', encoded, { columns: width, rows: 1, bitsAllocated: 8, bitsStored: 8, samplesPerPixel: 1, pixelRepresentation: 0, planarConfiguration: 0, photometricInterpretation: 'MONOCHROME2' });
    if (out.bytes.length < width) throw new InvalidPixelDataError(`RLE decoder returned ${out.bytes.length} bytes, ${width} needed`);
    return { values: toStoredValues(unpackUnits(out.bytes, 1, 0, pixels), info), photometricInterpretation: info.photometricInterpretation };
  }
  if (bitsAllocated % 8 !== 0) throw new InvalidPixelDataError(`RLE pixel data with BitsAllocated ${bitsAllocated} (PS3.5 G.2 needs a multiple of 8, or 1)`);
  const bytesPerSample = (bitsAllocated / 8) as 1 | 2 | 4;
  readRleHeader(encoded, samplesPerPixel * bytesPerSample);
  // Segments are planes by nature (PS3.5 G.2); asking for planar configuration 0 makes the decoder interleave them.
  const out = decodeNative('DecodeRle', encoded, {
    columns,
    rows,
    bitsAllocated,
    bitsStored: info.bitsStored,
    samplesPerPixel,
    pixelRepresentation: info.pixelRepresentation,
    planarConfiguration: 0,
    photometricInterpretation: info.photometricInterpretation,
  });
  const values = decodedSamplesToStoredValues(out.bytes, bytesPerSample, info, { codec: 'RLE' });
  return { values, photometricInterpretation: unconvertedPhotometric(info) };
}

export const rleCodec: FrameCodec = { name: 'RLE', endsWithEoi: false, decode: decodeRleFrame };
