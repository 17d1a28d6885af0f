CREATE TABLE `dicom_files` (
	`id` text PRIMARY KEY NOT NULL,
	`sha256` text NOT NULL,
	`filename` text NOT NULL,
	`byte_size` integer NOT NULL,
	`uploaded_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	`transfer_syntax_uid` text,
	`sop_class_uid` text,
	`sop_instance_uid` text,
	`patient_id` text,
	`patient_name` text,
	`study_instance_uid` text,
	`series_instance_uid` text,
	`modality` text,
	`rows` integer,
	`columns` integer,
	`number_of_frames` integer,
	`has_pixel_data` integer NOT NULL,
	`pixel_data_vr` text,
	`pixel_data_length` integer,
	`pixel_data_encapsulated` integer,
	`header_end` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dicom_files_sha256_unique` ON `dicom_files` (`sha256`);--> statement-breakpoint
CREATE INDEX `dicom_files_sop_instance_uid_idx` ON `dicom_files` (`sop_instance_uid`);--> statement-breakpoint
CREATE INDEX `dicom_files_study_instance_uid_idx` ON `dicom_files` (`study_instance_uid`);--> statement-breakpoint
CREATE INDEX `dicom_files_series_instance_uid_idx` ON `dicom_files` (`series_instance_uid`);--> statement-breakpoint
CREATE INDEX `dicom_files_patient_id_idx` ON `dicom_files` (`patient_id`);--> statement-breakpoint
CREATE INDEX `dicom_files_uploaded_at_idx` ON `dicom_files` (`uploaded_at`);