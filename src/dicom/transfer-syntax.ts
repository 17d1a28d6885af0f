/**
 * The one registry of transfer syntaxes (PS3.5 §10, PS3.6 Annex A). Everything that needs to know
 * how a transfer syntax is encoded — the header walker, dcmjs, the pixel pipeline — asks here;
 * nothing else compares transfer syntax UIDs. Each encapsulated transfer syntax that can be decoded
 * names its codec here.
 */
import type { FrameCodec } from './decoders/codec.js';
import { jpegCodec } from './decoders/jpeg.js';
import { jpeg2000Codec } from './decoders/jpeg-2000.js';
import { jpegLsCodec } from './decoders/jpeg-ls.js';
import { rleCodec } from './decoders/rle.js';

export interface TransferSyntax {
  readonly uid: string;
  readonly name: string;
  /** Byte order of the data set (and of native pixel data). */
  readonly littleEndian: boolean;
  /** Explicit VR encoding of the data set. */
  readonly explicitVr: boolean;
  /** The data set after the file meta information is deflated (RFC 1951, no zlib header). */
  readonly deflated: boolean;
  /** Pixel data is encapsulated (fragments in items), i.e. compressed. */
  readonly encapsulated: boolean;
  /** Pixel data can be decoded to a PNG by this server (native, or encapsulated with a codec). */
  readonly decodable: boolean;
  /** Decoder of the encapsulated pixel data (PS3.5 A.4); absent for native encodings and for those without a decoder. */
  readonly codec?: FrameCodec;
}

const native = (uid: string, name: string, littleEndian: boolean, explicitVr: boolean, deflated = false): TransferSyntax => ({
  uid,
  name,
  littleEndian,
  explicitVr,
  deflated,
  encapsulated: false,
  decodable: true,
});

const encapsulated = (uid: string, name: string, codec?: FrameCodec): TransferSyntax => ({
  uid,
  name,
  littleEndian: true,
  explicitVr: true,
  deflated: false,
  encapsulated: true,
  decodable: codec !== undefined,
  ...(codec ? { codec } : {}),
});

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';

const registry = new Map<string, TransferSyntax>(
  [
    native(IMPLICIT_VR_LITTLE_ENDIAN, 'Implicit VR Little Endian', true, false),
    native(EXPLICIT_VR_LITTLE_ENDIAN, 'Explicit VR Little Endian', true, true),
    native(EXPLICIT_VR_BIG_ENDIAN, 'Explicit VR Big Endian (retired)', false, true),
    native(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, 'Deflated Explicit VR Little Endian', true, true, true),
    encapsulated('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)', jpegCodec),
    encapsulated('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)', jpegCodec),
    encapsulated('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)', jpegCodec),
    encapsulated('1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, SV1)', jpegCodec),
    encapsulated('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', jpegLsCodec),
    encapsulated('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)', jpegLsCodec),
    encapsulated('1.2.840.10008.1.2.4.90', 'JPEG 2000 Image Compression (Lossless Only)', jpeg2000Codec),
    encapsulated('1.2.840.10008.1.2.4.91', 'JPEG 2000 Image Compression', jpeg2000Codec),
    encapsulated('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)'),
    encapsulated('1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)'),
    encapsulated('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000'),
    encapsulated('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level'),
    encapsulated('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1'),
    encapsulated('1.2.840.10008.1.2.4.110', 'JPEG XL Lossless'),
    encapsulated('1.2.840.10008.1.2.5', 'RLE Lossless', rleCodec),
  ].map((ts) => [ts.uid, ts]),
);

/** Look up a transfer syntax by UID (trailing NUL/space padding ignored); undefined when unknown. */
export function findTransferSyntax(uid: string): TransferSyntax | undefined {
  return registry.get(uid.replace(/[\0 ]+$/, ''));
}

/**
 * How to read a data set whose transfer syntax is not in the registry: PS3.5 §10 says every
 * transfer syntax other than implicit VR LE and explicit VR BE encodes the data set in explicit
 * VR little endian, so an unknown UID is read that way, with its pixel data treated as encapsulated.
 */
export function transferSyntaxOrFallback(uid: string): TransferSyntax {
  const clean = uid.replace(/[\0 ]+$/, '');
  return findTransferSyntax(clean) ?? { ...encapsulated(clean, `Unknown transfer syntax ${clean}`) };
}
