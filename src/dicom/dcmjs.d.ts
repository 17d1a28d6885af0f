/**
 * The parts of dcmjs 0.51 this project uses (dcmjs ships no types). Only what src/dicom touches is
 * declared; everything is typed loosely on purpose because dcmjs's own shapes are loose.
 */
declare module 'dcmjs' {
  namespace data {
    interface DcmjsTag {
      readonly value: number;
      group(): number;
      element(): number;
      toCleanString(): string;
    }
    interface DcmjsVr {
      readonly type: string;
    }
    interface ReadTagResult {
      tag: DcmjsTag;
      vr: DcmjsVr;
      values: unknown[];
      rawValues: unknown[];
    }
    class ReadBufferStream {
      constructor(buffer: ArrayBuffer | null, littleEndian?: boolean | null, options?: Record<string, unknown>);
      offset: number;
      size: number;
      startOffset: number;
      endOffset: number;
      isLittleEndian: boolean;
      decoder: { decode(view: ArrayBufferView): string };
      setDecoder(decoder: { decode(view: ArrayBufferView): string }): void;
      setEndian(littleEndian: boolean): void;
      slice(start: number, end: number): ArrayBuffer;
      getBuffer(start: number, end: number): ArrayBuffer;
      readEncodedString(length: number): string;
      readUint16(): number;
      readUint32(): number;
      increment(step: number): number;
      more(length: number): ReadBufferStream;
      end(): boolean;
      setComplete(value?: boolean): void;
    }
    interface DcmjsValueRepresentation {
      readonly type: string;
      readonly maxLength: number | null;
      readonly noMultiple?: boolean;
      isBinary(): boolean;
      read(stream: ReadBufferStream, length: number, syntax: string, options?: Record<string, unknown>): { rawValue: unknown; value: unknown };
    }
    class ValueRepresentation {
      static createByTypeString(type: string): DcmjsValueRepresentation;
    }
    class DicomMessage {
      static _readTag(stream: ReadBufferStream, syntax: string, options?: Record<string, unknown>): ReadTagResult;
      static _read(stream: ReadBufferStream, syntax: string, options?: Record<string, unknown>): Record<string, unknown>;
      static readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): { meta: Record<string, unknown>; dict: Record<string, unknown> };
    }
    interface NameMapEntry {
      tag: string;
      vr: string;
      vm: string;
      name: string;
      version?: string;
    }
    class DicomMetaDictionary {
      static nameMap: Record<string, NameMapEntry>;
      static dictionary: Record<string, NameMapEntry | undefined>;
    }
  }
  const log: {
    setLevel(level: string | number): void;
    getLevel(): number;
    getLogger?(name: string): { setLevel(level: string | number): void };
    rebuild?(): void;
  };
  const dcmjs: { data: typeof data; log: typeof log };
  export default dcmjs;
}
