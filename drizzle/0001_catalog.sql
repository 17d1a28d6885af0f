CREATE TABLE `patient_names` (
	`patient_ref` integer NOT NULL,
	`name` text NOT NULL,
	`name_folded` text NOT NULL,
	`file_count` integer NOT NULL,
	PRIMARY KEY(`patient_ref`, `name`),
	FOREIGN KEY (`patient_ref`) REFERENCES `patients`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `patient_names_folded_idx` ON `patient_names` (`name_folded`,`patient_ref`);--> statement-breakpoint
CREATE TABLE `patients` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`patient_id` text NOT NULL,
	`issuer` text DEFAULT '' NOT NULL,
	`unknown_scope` text DEFAULT '' NOT NULL,
	`patient_name` text,
	`patient_name_sort` text DEFAULT '' NOT NULL,
	`birth_date` text,
	`sex` text,
	`study_count` integer DEFAULT 0 NOT NULL,
	`instance_count` integer DEFAULT 0 NOT NULL,
	`first_uploaded_at` integer NOT NULL,
	`last_uploaded_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `patients_identity_unique` ON `patients` (`patient_id`,`issuer`,`unknown_scope`);--> statement-breakpoint
CREATE INDEX `patients_name_sort_idx` ON `patients` (`patient_name_sort`);--> statement-breakpoint
CREATE INDEX `patients_last_uploaded_at_idx` ON `patients` (`last_uploaded_at`);--> statement-breakpoint
CREATE TABLE `series` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`study_ref` integer NOT NULL,
	`series_instance_uid` text NOT NULL,
	`modality` text,
	`series_number` integer,
	`series_description` text,
	`body_part_examined` text,
	`instance_count` integer DEFAULT 0 NOT NULL,
	`first_uploaded_at` integer NOT NULL,
	`last_uploaded_at` integer NOT NULL,
	FOREIGN KEY (`study_ref`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `series_identity_unique` ON `series` (`study_ref`,`series_instance_uid`);--> statement-breakpoint
CREATE INDEX `series_study_number_idx` ON `series` (`study_ref`,`series_number`);--> statement-breakpoint
CREATE INDEX `series_study_modality_idx` ON `series` (`study_ref`,`modality`);--> statement-breakpoint
CREATE INDEX `series_uid_idx` ON `series` (`series_instance_uid`);--> statement-breakpoint
CREATE INDEX `series_modality_idx` ON `series` (`modality`,`last_uploaded_at`);--> statement-breakpoint
CREATE INDEX `series_last_uploaded_at_idx` ON `series` (`last_uploaded_at`);--> statement-breakpoint
CREATE TABLE `studies` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`patient_ref` integer NOT NULL,
	`study_instance_uid` text NOT NULL,
	`study_date` text DEFAULT '' NOT NULL,
	`study_time` text DEFAULT '' NOT NULL,
	`study_description` text,
	`accession_number` text,
	`referring_physician_name` text,
	`modalities` text DEFAULT '' NOT NULL,
	`series_count` integer DEFAULT 0 NOT NULL,
	`instance_count` integer DEFAULT 0 NOT NULL,
	`first_uploaded_at` integer NOT NULL,
	`last_uploaded_at` integer NOT NULL,
	FOREIGN KEY (`patient_ref`) REFERENCES `patients`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `studies_identity_unique` ON `studies` (`patient_ref`,`study_instance_uid`);--> statement-breakpoint
CREATE INDEX `studies_patient_date_idx` ON `studies` (`patient_ref`,`study_date`,`study_time`);--> statement-breakpoint
CREATE INDEX `studies_date_idx` ON `studies` (`study_date`,`study_time`);--> statement-breakpoint
CREATE INDEX `studies_uid_idx` ON `studies` (`study_instance_uid`);--> statement-breakpoint
CREATE INDEX `studies_accession_idx` ON `studies` (`accession_number`);--> statement-breakpoint
CREATE INDEX `studies_last_uploaded_at_idx` ON `studies` (`last_uploaded_at`);--> statement-breakpoint
DROP INDEX `dicom_files_study_instance_uid_idx`;--> statement-breakpoint
DROP INDEX `dicom_files_series_instance_uid_idx`;--> statement-breakpoint
DROP INDEX `dicom_files_patient_id_idx`;--> statement-breakpoint
DROP INDEX `dicom_files_uploaded_at_idx`;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `issuer_of_patient_id` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `patient_birth_date` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `patient_sex` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `study_date` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `study_time` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `study_description` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `accession_number` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `referring_physician_name` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `series_number` integer;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `series_description` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `body_part_examined` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `instance_number` integer;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `content_date` text;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `patient_ref` integer REFERENCES patients(id);--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `study_ref` integer REFERENCES studies(id);--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `series_ref` integer REFERENCES series(id);--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `is_current` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `dicom_files_series_current_number_idx` ON `dicom_files` (`series_ref`,`is_current`,`instance_number`,`id`);--> statement-breakpoint
CREATE INDEX `dicom_files_study_uploaded_idx` ON `dicom_files` (`study_ref`,`uploaded_at`,`id`);--> statement-breakpoint
CREATE INDEX `dicom_files_patient_uploaded_idx` ON `dicom_files` (`patient_ref`,`uploaded_at`,`id`);--> statement-breakpoint
CREATE INDEX `dicom_files_uploaded_idx` ON `dicom_files` (`uploaded_at`,`id`);--> statement-breakpoint
CREATE INDEX `dicom_files_sop_class_idx` ON `dicom_files` (`sop_class_uid`,`is_current`,`uploaded_at`,`id`);--> statement-breakpoint
CREATE INDEX `dicom_files_modality_idx` ON `dicom_files` (`modality`,`is_current`,`uploaded_at`,`id`);