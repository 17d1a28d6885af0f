/**
 * Database tables (drizzle). SQL columns are snake_case, TypeScript keys camelCase. A row is
 * written only after its blob is durable on disk; the blob is addressed by the file's SHA-256.
 *
 * The catalog (patients → studies → series → dicom_files) is maintained by src/storage/catalog.ts
 * in the same transaction as every file insert or delete; its counters are only ever changed there.
 * Text keys that identify a catalog row are NOT NULL with '' for "absent" (SQLite treats NULLs as
 * distinct in unique indexes); sort keys are NOT NULL too, so that keyset pagination compares row
 * values without NULL cases. The GraphQL layer shows '' as null.
 */
import { sql } from 'drizzle-orm';
import { type AnySQLiteColumn, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * Accounts. In local mode (README "Security") every request acts as the user with id 1 ("local",
 * an admin), created by openDatabase(); files stored before accounts existed belong to it.
 */
export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  /** May query the audit trail. */
  isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** The user every request acts as in local mode (no AUTH, loopback HOST). */
export const LOCAL_USER_ID = 1;
export const LOCAL_USER_NAME = 'local';

/**
 * API tokens: `Authorization: Bearer <token>`. Only a hash of the secret part is stored; the
 * token itself is shown once, when created.
 */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    /** The public part of the token (it names the row; the secret part is hashed). */
    id: text('id').primaryKey(),
    userRef: integer('user_ref')
      .notNull()
      .references(() => users.id),
    /** Hex SHA-256 of the secret part. */
    secretHash: text('secret_hash').notNull(),
    /** What the token is for (free text from its creator); never logged. */
    label: text('label'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    /** Null: never expires. */
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }),
    /** Set once, when revoked; a revoked token never authenticates again. */
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
    lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
  },
  (t) => [index('api_tokens_user_idx').on(t.userRef, t.createdAt)],
);

/**
 * The audit trail: who uploaded, read attributes of, rendered, downloaded or deleted which file,
 * when. Rows are never updated; the file id stays after the file is deleted.
 */
export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
    userRef: integer('user_ref').notNull(),
    /** The user's name when it happened (kept if the user is renamed or removed). */
    userName: text('user_name').notNull(),
    /** The token the request authenticated with; null in local mode. */
    tokenId: text('token_id'),
    /** UPLOAD, READ, RENDER, DOWNLOAD or DELETE. */
    action: text('action').notNull(),
    fileId: text('file_id').notNull(),
    /** The request's id (x-request-id): ties the event to its log line. */
    requestId: text('request_id'),
  },
  (t) => [
    index('audit_events_at_idx').on(t.at),
    index('audit_events_file_idx').on(t.fileId, t.at),
    index('audit_events_user_idx').on(t.userRef, t.at),
  ],
);

/**
 * One row per patient identity: (PatientID, IssuerOfPatientID). Files without a PatientID get an
 * "unknown patient" of their own per study: patient_id '' and unknown_scope = the study's UID.
 */
export const patients = sqliteTable(
  'patients',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /**
     * The user (users.id) who stored it: every query is scoped to the caller's own rows. No
     * REFERENCES clause: SQLite cannot add one with a non-null default to an existing table, and
     * users are never deleted.
     */
    ownerRef: integer('owner_ref').notNull().default(LOCAL_USER_ID),
    /** (0010,0020); '' for an unknown patient. */
    patientId: text('patient_id').notNull(),
    /** (0010,0021); '' when absent. */
    issuer: text('issuer').notNull().default(''),
    /** '' for a known patient; for an unknown one, the Study Instance UID it holds ('' if that is unknown too). */
    unknownScope: text('unknown_scope').notNull().default(''),
    /** The most recently uploaded non-empty name; every distinct name is in patient_names. */
    patientName: text('patient_name'),
    /** Upper-cased patientName ('' when none): the sort key of PATIENT_NAME. */
    patientNameSort: text('patient_name_sort').notNull().default(''),
    birthDate: text('birth_date'),
    sex: text('sex'),
    /** Studies, and current instance versions, under this patient (maintained with every change). */
    studyCount: integer('study_count').notNull().default(0),
    instanceCount: integer('instance_count').notNull().default(0),
    firstUploadedAt: integer('first_uploaded_at', { mode: 'timestamp_ms' }).notNull(),
    lastUploadedAt: integer('last_uploaded_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    uniqueIndex('patients_identity_unique').on(t.ownerRef, t.patientId, t.issuer, t.unknownScope),
    index('patients_name_sort_idx').on(t.ownerRef, t.patientNameSort),
    index('patients_last_uploaded_at_idx').on(t.ownerRef, t.lastUploadedAt),
  ],
);

/** Every distinct Patient's Name stored files carry for a patient, with how many files carry it. */
export const patientNames = sqliteTable(
  'patient_names',
  {
    patientRef: integer('patient_ref')
      .notNull()
      .references(() => patients.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** Upper-cased name: what patientName wildcards are matched against (case-insensitively). */
    nameFolded: text('name_folded').notNull(),
    fileCount: integer('file_count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.patientRef, t.name] }), index('patient_names_folded_idx').on(t.nameFolded, t.patientRef)],
);

/** One row per (patient, Study Instance UID). */
export const studies = sqliteTable(
  'studies',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /**
     * The user (users.id) who stored it: every query is scoped to the caller's own rows. No
     * REFERENCES clause: SQLite cannot add one with a non-null default to an existing table, and
     * users are never deleted.
     */
    ownerRef: integer('owner_ref').notNull().default(LOCAL_USER_ID),
    patientRef: integer('patient_ref')
      .notNull()
      .references(() => patients.id),
    /** (0020,000D); '' for files without one (one such study per patient). */
    studyInstanceUid: text('study_instance_uid').notNull(),
    /** DA "YYYYMMDD"; '' when unknown (sorts first ascending, last descending). */
    studyDate: text('study_date').notNull().default(''),
    /** TM as written; '' when unknown. */
    studyTime: text('study_time').notNull().default(''),
    studyDescription: text('study_description'),
    accessionNumber: text('accession_number'),
    referringPhysicianName: text('referring_physician_name'),
    /** Distinct series modalities, sorted, joined with "\\" (DICOM multi-value separator). */
    modalities: text('modalities').notNull().default(''),
    seriesCount: integer('series_count').notNull().default(0),
    instanceCount: integer('instance_count').notNull().default(0),
    firstUploadedAt: integer('first_uploaded_at', { mode: 'timestamp_ms' }).notNull(),
    lastUploadedAt: integer('last_uploaded_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    uniqueIndex('studies_identity_unique').on(t.patientRef, t.studyInstanceUid),
    index('studies_patient_date_idx').on(t.patientRef, t.studyDate, t.studyTime),
    index('studies_date_idx').on(t.ownerRef, t.studyDate, t.studyTime),
    index('studies_uid_idx').on(t.studyInstanceUid),
    index('studies_accession_idx').on(t.accessionNumber),
    index('studies_last_uploaded_at_idx').on(t.ownerRef, t.lastUploadedAt),
  ],
);

/** One row per (study, Series Instance UID). */
export const series = sqliteTable(
  'series',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /**
     * The user (users.id) who stored it: every query is scoped to the caller's own rows. No
     * REFERENCES clause: SQLite cannot add one with a non-null default to an existing table, and
     * users are never deleted.
     */
    ownerRef: integer('owner_ref').notNull().default(LOCAL_USER_ID),
    studyRef: integer('study_ref')
      .notNull()
      .references(() => studies.id),
    /** (0020,000E); '' for files without one (one such series per study). */
    seriesInstanceUid: text('series_instance_uid').notNull(),
    modality: text('modality'),
    seriesNumber: integer('series_number'),
    seriesDescription: text('series_description'),
    bodyPartExamined: text('body_part_examined'),
    instanceCount: integer('instance_count').notNull().default(0),
    firstUploadedAt: integer('first_uploaded_at', { mode: 'timestamp_ms' }).notNull(),
    lastUploadedAt: integer('last_uploaded_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [
    uniqueIndex('series_identity_unique').on(t.studyRef, t.seriesInstanceUid),
    index('series_study_number_idx').on(t.studyRef, t.seriesNumber),
    index('series_study_modality_idx').on(t.studyRef, t.modality),
    index('series_uid_idx').on(t.seriesInstanceUid),
    index('series_modality_idx').on(t.ownerRef, t.modality, t.lastUploadedAt),
    index('series_last_uploaded_at_idx').on(t.ownerRef, t.lastUploadedAt),
  ],
);

export const dicomFiles = sqliteTable(
  'dicom_files',
  {
    id: text('id').primaryKey(),
    /**
     * The user (users.id) who stored it: every query is scoped to the caller's own rows. No
     * REFERENCES clause: SQLite cannot add one with a non-null default to an existing table, and
     * users are never deleted.
     */
    ownerRef: integer('owner_ref').notNull().default(LOCAL_USER_ID),
    /** Hex SHA-256 of the original bytes; names the blob. Identical bytes are stored once per owner (one blob for all). */
    sha256: text('sha256').notNull(),
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
    issuerOfPatientId: text('issuer_of_patient_id'),
    patientBirthDate: text('patient_birth_date'),
    patientSex: text('patient_sex'),
    studyInstanceUid: text('study_instance_uid'),
    studyDate: text('study_date'),
    studyTime: text('study_time'),
    studyDescription: text('study_description'),
    accessionNumber: text('accession_number'),
    referringPhysicianName: text('referring_physician_name'),
    seriesInstanceUid: text('series_instance_uid'),
    modality: text('modality'),
    seriesNumber: integer('series_number'),
    seriesDescription: text('series_description'),
    bodyPartExamined: text('body_part_examined'),
    instanceNumber: integer('instance_number'),
    contentDate: text('content_date'),
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
    /**
     * Where the file sits in the catalog. Null only for rows stored before the catalog existed,
     * until backfillCatalog() has read their headers again (at start).
     */
    patientRef: integer('patient_ref').references((): AnySQLiteColumn => patients.id),
    studyRef: integer('study_ref').references((): AnySQLiteColumn => studies.id),
    seriesRef: integer('series_ref').references((): AnySQLiteColumn => series.id),
    /**
     * The current version of its instance (same series and SOP Instance UID): the newest upload.
     * Counts and `instances` see current versions only; older versions stay reachable by id.
     */
    isCurrent: integer('is_current', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    uniqueIndex('dicom_files_owner_sha256_unique').on(t.ownerRef, t.sha256),
    index('dicom_files_sha256_idx').on(t.sha256),
    index('dicom_files_sop_instance_uid_idx').on(t.sopInstanceUid),
    index('dicom_files_series_current_number_idx').on(t.seriesRef, t.isCurrent, t.instanceNumber, t.id),
    // The upload's version lookup (current version of (series, SOP Instance UID)) and a delete's
    // promotion of the newest remaining version: a seek, not a walk over the series' current files.
    index('dicom_files_series_sop_current_idx').on(t.seriesRef, t.sopInstanceUid, t.isCurrent),
    // A delete's recomputation of a series (newest non-empty values, last upload): a backward
    // walk from the newest file, as the study and patient indexes below give theirs.
    index('dicom_files_series_uploaded_idx').on(t.seriesRef, t.uploadedAt, t.id),
    index('dicom_files_study_uploaded_idx').on(t.studyRef, t.uploadedAt, t.id),
    index('dicom_files_patient_uploaded_idx').on(t.patientRef, t.uploadedAt, t.id),
    index('dicom_files_uploaded_idx').on(t.ownerRef, t.uploadedAt, t.id),
    index('dicom_files_sop_class_idx').on(t.ownerRef, t.sopClassUid, t.isCurrent, t.uploadedAt, t.id),
    index('dicom_files_modality_idx').on(t.ownerRef, t.modality, t.isCurrent, t.uploadedAt, t.id),
  ],
);

export type DicomFileRow = typeof dicomFiles.$inferSelect;
export type NewDicomFileRow = typeof dicomFiles.$inferInsert;
export type PatientRow = typeof patients.$inferSelect;
export type StudyRow = typeof studies.$inferSelect;
export type SeriesRow = typeof series.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;
