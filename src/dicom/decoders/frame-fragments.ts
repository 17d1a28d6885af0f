/**
 * Which fragments of encapsulated pixel data hold frame N (PS3.5 A.4), and their bytes. Only the
 * requested frame's fragments are read.
 */
import { InvalidPixelDataError } from '../../errors.js';
import type { ByteSource } from '../byte-source.js';
import type { PixelDataLocation } from '../scan.js';
import { endsWithEoi } from './jpeg-markers.js';

export interface Fragment {
  /** Offset of the fragment's value (after its 8-byte item header) in data-set space. */
  readonly offset: number;
  readonly length: number;
}

/** Bytes an item header takes before the fragment value (tag + length, PS3.5 §7.5). */
const ITEM_HEADER = 8;

/**
 * The fragments of frame `frameIndex` (0-based), decided in this order (PS3.5 A.4):
 *
 * 1. a Basic Offset Table with one entry per frame, starting at 0, increasing, each pointing at a
 *    fragment's item tag: the frame is the fragments from its entry up to the next one;
 * 2. a single frame: every fragment;
 * 3. as many fragments as frames: one fragment per frame (also what an Extended Offset Table,
 *    PS3.3 C.7.6.3.1.8, implies: it requires one fragment per frame);
 * 4. codestreams that end with an EOI / EOC marker (JPEG, JPEG-LS, JPEG 2000: both are FFD9, a
 *    value their entropy-coded data cannot contain): a frame ends with the fragment whose value ends
 *    with FFD9 (before any trailing 00 padding).
 *
 * Anything else cannot be split reliably and is an InvalidPixelDataError.
 */
export function frameFragments(
  location: PixelDataLocation,
  pixels: ByteSource,
  numberOfFrames: number,
  frameIndex: number,
  endsWithEoi: boolean,
): readonly Fragment[] {
  const fragments = location.fragments ?? [];
  if (fragments.length === 0) throw new InvalidPixelDataError('encapsulated pixel data holds no fragments (only an offset table)');
  if (frameIndex < 0 || frameIndex >= numberOfFrames) throw new RangeError(`frame index ${frameIndex} outside 0..${numberOfFrames - 1}`);

  const fromTable = splitByOffsetTable(location.offsetTable ?? [], fragments, numberOfFrames);
  if (fromTable) return fragments.slice(fromTable[frameIndex]!, fromTable[frameIndex + 1]);
  if (numberOfFrames === 1) return fragments;
  if (fragments.length === numberOfFrames) return [fragments[frameIndex]!];
  if (!endsWithEoi) {
    throw new InvalidPixelDataError(
      `cannot tell which fragments hold frame ${frameIndex + 1}: no Basic Offset Table and ${fragments.length} fragments for ${numberOfFrames} frames`,
    );
  }
  let start = 0;
  let frame = 0;
  for (let i = 0; i < fragments.length; i++) {
    if (!endsWithEoiMarker(pixels, fragments[i]!)) continue;
    if (frame === frameIndex) return fragments.slice(start, i + 1);
    frame++;
    start = i + 1;
  }
  // The last frame may lack its EOI (a truncated codestream): it is whatever follows the last one.
  if (frame === frameIndex && start < fragments.length) return fragments.slice(start);
  throw new InvalidPixelDataError(
    `frame ${frameIndex + 1} not found: without a Basic Offset Table the ${fragments.length} fragments hold ${frame + (start < fragments.length ? 1 : 0)} codestream(s) ending in an EOI/EOC marker, the image declares ${numberOfFrames} frames`,
  );
}

/**
 * Fragment index where each frame starts, plus fragments.length at the end; undefined when the
 * Basic Offset Table is empty or unusable (then the other rules apply, as dcmtk and GDCM do).
 */
function splitByOffsetTable(table: readonly number[], fragments: readonly Fragment[], numberOfFrames: number): number[] | undefined {
  if (table.length !== numberOfFrames || table[0] !== 0) return undefined;
  // Offsets count from the first fragment's item tag.
  const base = fragments[0]!.offset - ITEM_HEADER;
  const starts: number[] = [];
  let f = 0;
  for (const entry of table) {
    while (f < fragments.length && fragments[f]!.offset - ITEM_HEADER - base < entry) f++;
    if (f >= fragments.length || fragments[f]!.offset - ITEM_HEADER - base !== entry) return undefined;
    if (starts.length > 0 && f <= starts[starts.length - 1]!) return undefined;
    starts.push(f);
  }
  starts.push(fragments.length);
  return starts;
}

/** The fragment's value ends with FFD9, possibly followed by 00 or FF padding (see endsWithEoi). */
function endsWithEoiMarker(pixels: ByteSource, fragment: Fragment): boolean {
  const tail = Math.min(fragment.length, 16);
  return endsWithEoi(pixels.read(fragment.offset + fragment.length - tail, tail));
}

/** The frame's compressed bytes: its fragments' values, concatenated (PS3.5 A.4). */
export function readEncapsulatedFrame(
  location: PixelDataLocation,
  pixels: ByteSource,
  numberOfFrames: number,
  frameIndex: number,
  endsWithEoi: boolean,
): Uint8Array {
  const parts = frameFragments(location, pixels, numberOfFrames, frameIndex, endsWithEoi);
  if (parts.length === 1) return readFully(pixels, parts[0]!);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(readFully(pixels, p), at);
    at += p.length;
  }
  return out;
}

function readFully(pixels: ByteSource, fragment: Fragment): Uint8Array {
  const bytes = pixels.read(fragment.offset, fragment.length);
  if (bytes.length !== fragment.length) {
    throw new InvalidPixelDataError(`pixel data fragment at offset ${fragment.offset} declares ${fragment.length} bytes but the data ends after ${bytes.length}`);
  }
  return bytes;
}
