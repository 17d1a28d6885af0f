/**
 * What a pixel codec is to the pipeline: compressed bytes of one frame in, stored values out
 * (PS3.5 §8.2, A.4). The transfer syntax registry attaches one codec to each encapsulated transfer
 * syntax it can decode; render.ts asks the registry, never a UID.
 */
import { InvalidPixelDataError } from '../../errors.js';
import type { ImageInfo } from '../image-info.js';
import { interleavePlanes, type StoredValues, toStoredValues } from '../pixels.js';

/** One decoded frame. */
export interface DecodedFrame {
  /** Stored values, samples interleaved per pixel, masked and sign-extended as native data (PS3.5 §8.1.1). */
  readonly values: StoredValues;
  /**
   * Colour model of `values`: "RGB" when the codec converted colour (JPEG YCbCr → RGB, JPEG 2000
   * inverse multiple-component transform), "YBR_FULL" for YBR_FULL_422 data the codec has
   * upsampled, else the data set's photometric interpretation.
   */
  readonly photometricInterpretation: string;
}

/** A decoder for the pixel data of one family of transfer syntaxes. */
export interface FrameCodec {
  /** For messages, e.g. "JPEG". */
  readonly name: string;
  /** Each frame's codestream ends with an FFD9 marker (JPEG EOI, JPEG-LS EOI, JPEG 2000 EOC): used to find frames without an offset table (PS3.5 A.4). */
  readonly endsWithEoi: boolean;
  /** Decodes one frame's compressed bytes (its fragments concatenated). Throws InvalidPixelDataError on corrupt data. */
  decode(encoded: Uint8Array, info: ImageInfo): DecodedFrame;
}

/** Size of a decoded frame, which may be smaller than Rows × Columns (an unpadded edge tile). */
export interface DecodedSize {
  readonly columns: number;
  readonly rows: number;
}

/**
 * Raw little-endian samples of `bytesPerSample` bytes (1, 2 or 4) of a `size.columns` × `size.rows`
 * frame → stored values of a Rows × Columns frame (mask to Bits Stored, sign extension), with the
 * decoder's output size checked.
 *
 * When the codestream's sample precision is larger than Bits Stored, the codestream wins: its
 * samples are what was coded, and masking them to Bits Stored would wrap the values above it
 * (weasis-dicom-tools/jpeg2000-multiframe-multifragments.dcm declares 12 bits, its 16-bit
 * JPEG 2000 codestream holds values up to 4124; GDCM's decoding keeps them, and so does the reference).
 *
 * A frame smaller than Rows × Columns is placed at the top left and the rest is 0: tiled
 * whole-slide images must pad their right and bottom edge tiles to the tile size (PS3.3
 * C.8.12.4.1.4), but some encoders store them cropped (fo-dicom/multiframe.dcm, frame 14 is 55×240).
 */
export function decodedSamplesToStoredValues(
  bytes: Uint8Array,
  bytesPerSample: 1 | 2 | 4,
  info: ImageInfo,
  options: { planar?: boolean; codec: string; precision?: number; size?: DecodedSize },
): StoredValues {
  const { columns, rows } = options.size ?? info;
  const spp = info.samplesPerPixel;
  const samples = rows * columns * spp;
  if (bytes.length < samples * bytesPerSample) {
    throw new InvalidPixelDataError(
      `${options.codec} decoder returned ${bytes.length} bytes for a ${columns}×${rows} frame of ${spp} sample(s) × ${bytesPerSample} byte(s) (${samples * bytesPerSample} needed)`,
    );
  }
  let units: Uint8Array | Uint16Array | Uint32Array;
  if (bytesPerSample === 1) units = bytes.subarray(0, samples);
  else {
    const aligned = bytes.byteOffset % bytesPerSample === 0 ? bytes : bytes.slice(0, samples * bytesPerSample);
    units = bytesPerSample === 2 ? new Uint16Array(aligned.buffer, aligned.byteOffset, samples) : new Uint32Array(aligned.buffer, aligned.byteOffset, samples);
  }
  const precision = Math.min(options.precision ?? 0, bytesPerSample * 8);
  const bits = precision > info.bitsStored ? { bitsStored: precision, highBit: precision - 1, pixelRepresentation: info.pixelRepresentation } : info;
  let values = toStoredValues(units, bits);
  if (options.planar && spp > 1) values = interleavePlanes(values, spp);
  if (columns === info.columns && rows === info.rows) return values;
  const full = values instanceof Uint32Array ? new Uint32Array(info.rows * info.columns * spp) : new Int32Array(info.rows * info.columns * spp);
  const line = columns * spp;
  for (let y = 0; y < rows; y++) full.set(values.subarray(y * line, (y + 1) * line), y * info.columns * spp);
  return full;
}

/** The colour model of decoded samples the codec did not convert: YBR_FULL_422 comes out upsampled (PS3.5 §8.2.1). */
export function unconvertedPhotometric(info: ImageInfo): string {
  return info.photometricInterpretation === 'YBR_FULL_422' ? 'YBR_FULL' : info.photometricInterpretation;
}
