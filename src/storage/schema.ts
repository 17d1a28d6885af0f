/**
 * Database tables (drizzle). SQL columns are snake_case, TypeScript keys camelCase. A row is
 * written only after its blob is durable on disk; the blob is addressed by the file's SHA-256.
 */
import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const dicomFiles = sqliteTable(
  'dicom_files',
  {
    id: text('id').primaryKey(),
    /** Hex SHA-256 of the original bytes; names the blob. Identical bytes are stored once. */
    sha256: text('sha256').notNull().unique(),
    /** The client's file name: metadata only, never part of a path. */
    filename: text('filename').notNull(),
    byteSize: integer('byte_size').notNull(),
    uploadedAt: integer('uploaded_at', { mode: 'timestamp_ms' })
      .notNull()
      .default(sql`(unixepoch('subsec') * 1000)`),
    /** (0002,0010) as written; null for a bare data set without file meta. */
    transferSyntaxUid: text('transfer_syntax_uid'),
    sopClassUid: text('sop_class_uid'),
    sopInstanceUid: text('sop_instance_uid'),
    patientId: text('patient_id'),
    patientName: text('patient_name'),
    studyInstanceUid: text('study_instance_uid'),
    seriesInstanceUid: text('series_instance_uid'),
    modality: text('modality'),
    rows: integer('rows'),
    columns: integer('columns'),
    numberOfFrames: integer('number_of_frames'),
    /** Top-level (7FE0,0010) is present. */
    hasPixelData: integer('has_pixel_data', { mode: 'boolean' }).notNull(),
    /** VR of (7FE0,0010), the bytes its value spans, and whether it is encapsulated (compressed). */
    pixelDataVr: text('pixel_data_vr'),
    pixelDataLength: integer('pixel_data_length'),
    pixelDataEncapsulated: integer('pixel_data_encapsulated', { mode: 'boolean' }),
    /** Bytes [0, headerEnd) hold every element before Pixel Data: all an attribute query reads. */
    headerEnd: integer('header_end').notNull(),
  },
  (t) => [
    index('dicom_files_sop_instance_uid_idx').on(t.sopInstanceUid),
    index('dicom_files_study_instance_uid_idx').on(t.studyInstanceUid),
    index('dicom_files_series_instance_uid_idx').on(t.seriesInstanceUid),
    index('dicom_files_patient_id_idx').on(t.patientId),
    index('dicom_files_uploaded_at_idx').on(t.uploadedAt),
  ],
);

export type DicomFileRow = typeof dicomFiles.$inferSelect;
export type NewDicomFileRow = typeof dicomFiles.$inferInsert;
