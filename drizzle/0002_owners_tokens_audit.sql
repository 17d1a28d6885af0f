CREATE TABLE `api_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`user_ref` integer NOT NULL,
	`secret_hash` text NOT NULL,
	`label` text,
	`created_at` integer NOT NULL,
	`expires_at` integer,
	`revoked_at` integer,
	`last_used_at` integer,
	FOREIGN KEY (`user_ref`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `api_tokens_user_idx` ON `api_tokens` (`user_ref`,`created_at`);--> statement-breakpoint
CREATE TABLE `audit_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`user_ref` integer NOT NULL,
	`user_name` text NOT NULL,
	`token_id` text,
	`action` text NOT NULL,
	`file_id` text NOT NULL,
	`request_id` text
);
--> statement-breakpoint
CREATE INDEX `audit_events_at_idx` ON `audit_events` (`at`);--> statement-breakpoint
CREATE INDEX `audit_events_file_idx` ON `audit_events` (`file_id`,`at`);--> statement-breakpoint
CREATE INDEX `audit_events_user_idx` ON `audit_events` (`user_ref`,`at`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`is_admin` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_name_unique` ON `users` (`name`);--> statement-breakpoint
DROP INDEX `dicom_files_sha256_unique`;--> statement-breakpoint
DROP INDEX `dicom_files_uploaded_idx`;--> statement-breakpoint
DROP INDEX `dicom_files_sop_class_idx`;--> statement-breakpoint
DROP INDEX `dicom_files_modality_idx`;--> statement-breakpoint
ALTER TABLE `dicom_files` ADD `owner_ref` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `dicom_files_owner_sha256_unique` ON `dicom_files` (`owner_ref`,`sha256`);--> statement-breakpoint
CREATE INDEX `dicom_files_sha256_idx` ON `dicom_files` (`sha256`);--> statement-breakpoint
CREATE INDEX `dicom_files_uploaded_idx` ON `dicom_files` (`owner_ref`,`uploaded_at`,`id`);--> statement-breakpoint
CREATE INDEX `dicom_files_sop_class_idx` ON `dicom_files` (`owner_ref`,`sop_class_uid`,`is_current`,`uploaded_at`,`id`);--> statement-breakpoint
CREATE INDEX `dicom_files_modality_idx` ON `dicom_files` (`owner_ref`,`modality`,`is_current`,`uploaded_at`,`id`);--> statement-breakpoint
DROP INDEX `patients_identity_unique`;--> statement-breakpoint
DROP INDEX `patients_name_sort_idx`;--> statement-breakpoint
DROP INDEX `patients_last_uploaded_at_idx`;--> statement-breakpoint
ALTER TABLE `patients` ADD `owner_ref` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `patients_identity_unique` ON `patients` (`owner_ref`,`patient_id`,`issuer`,`unknown_scope`);--> statement-breakpoint
CREATE INDEX `patients_name_sort_idx` ON `patients` (`owner_ref`,`patient_name_sort`);--> statement-breakpoint
CREATE INDEX `patients_last_uploaded_at_idx` ON `patients` (`owner_ref`,`last_uploaded_at`);--> statement-breakpoint
DROP INDEX `series_modality_idx`;--> statement-breakpoint
DROP INDEX `series_last_uploaded_at_idx`;--> statement-breakpoint
ALTER TABLE `series` ADD `owner_ref` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX `series_modality_idx` ON `series` (`owner_ref`,`modality`,`last_uploaded_at`);--> statement-breakpoint
CREATE INDEX `series_last_uploaded_at_idx` ON `series` (`owner_ref`,`last_uploaded_at`);--> statement-breakpoint
DROP INDEX `studies_date_idx`;--> statement-breakpoint
DROP INDEX `studies_last_uploaded_at_idx`;--> statement-breakpoint
ALTER TABLE `studies` ADD `owner_ref` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE INDEX `studies_date_idx` ON `studies` (`owner_ref`,`study_date`,`study_time`);--> statement-breakpoint
CREATE INDEX `studies_last_uploaded_at_idx` ON `studies` (`owner_ref`,`last_uploaded_at`);