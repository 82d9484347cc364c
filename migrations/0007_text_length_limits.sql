PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_annotations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`model_id` integer NOT NULL,
	`target` text NOT NULL,
	`target_key` text NOT NULL,
	`body` text NOT NULL,
	`status` text DEFAULT 'HYPOTHESIS' NOT NULL,
	`tags` text NOT NULL,
	`evidence` text NOT NULL,
	`author_id` integer,
	`version` integer DEFAULT 1 NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`model_id`) REFERENCES `models`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`author_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "annotations_target_length" CHECK(length("__new_annotations"."target") <= 4096),
	CONSTRAINT "annotations_target_key_length" CHECK(length("__new_annotations"."target_key") <= 4096),
	CONSTRAINT "annotations_body_length" CHECK(length("__new_annotations"."body") <= 100000),
	CONSTRAINT "annotations_tags_length" CHECK(length("__new_annotations"."tags") <= 4096),
	CONSTRAINT "annotations_evidence_length" CHECK(length("__new_annotations"."evidence") <= 262144)
);
--> statement-breakpoint
INSERT INTO `__new_annotations`("id", "model_id", "target", "target_key", "body", "status", "tags", "evidence", "author_id", "version", "created_at", "updated_at") SELECT "id", "model_id", "target", "target_key", "body", "status", "tags", "evidence", "author_id", "version", "created_at", "updated_at" FROM `annotations`;--> statement-breakpoint
DROP TABLE `annotations`;--> statement-breakpoint
ALTER TABLE `__new_annotations` RENAME TO `annotations`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `annotations_model` ON `annotations` (`model_id`,`target_key`);--> statement-breakpoint
CREATE TABLE `__new_api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`prefix` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	`expires_at` integer,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "api_tokens_name_length" CHECK(length("__new_api_tokens"."name") <= 100)
);
--> statement-breakpoint
INSERT INTO `__new_api_tokens`("id", "user_id", "name", "token_hash", "prefix", "created_at", "last_used_at", "revoked_at", "expires_at") SELECT "id", "user_id", "name", "token_hash", "prefix", "created_at", "last_used_at", "revoked_at", "expires_at" FROM `api_tokens`;--> statement-breakpoint
DROP TABLE `api_tokens`;--> statement-breakpoint
ALTER TABLE `__new_api_tokens` RENAME TO `api_tokens`;--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `api_tokens_user` ON `api_tokens` (`user_id`);--> statement-breakpoint
CREATE TABLE `__new_audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`user_id` integer,
	`action` text NOT NULL,
	`entity` text NOT NULL,
	`entity_id` text,
	`detail` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "audit_log_detail_length" CHECK(length("__new_audit_log"."detail") <= 65536)
);
--> statement-breakpoint
INSERT INTO `__new_audit_log`("id", "at", "user_id", "action", "entity", "entity_id", "detail") SELECT "id", "at", "user_id", "action", "entity", "entity_id", "detail" FROM `audit_log`;--> statement-breakpoint
DROP TABLE `audit_log`;--> statement-breakpoint
ALTER TABLE `__new_audit_log` RENAME TO `audit_log`;--> statement-breakpoint
CREATE INDEX `audit_log_entity` ON `audit_log` (`entity`,`entity_id`);--> statement-breakpoint
CREATE TABLE `__new_circuits` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`model_id` integer NOT NULL,
	`name` text NOT NULL,
	`graph` text NOT NULL,
	`version` integer DEFAULT 1 NOT NULL,
	`updated_by` integer,
	`owner_id` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`updated_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`model_id`) REFERENCES `models`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`updated_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`owner_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "circuits_name_length" CHECK(length("__new_circuits"."name") <= 200),
	CONSTRAINT "circuits_graph_length" CHECK(length("__new_circuits"."graph") <= 262144)
);
--> statement-breakpoint
INSERT INTO `__new_circuits`("id", "model_id", "name", "graph", "version", "updated_by", "owner_id", "created_at", "updated_at") SELECT "id", "model_id", "name", "graph", "version", "updated_by", "owner_id", "created_at", "updated_at" FROM `circuits`;--> statement-breakpoint
DROP TABLE `circuits`;--> statement-breakpoint
ALTER TABLE `__new_circuits` RENAME TO `circuits`;--> statement-breakpoint
CREATE TABLE `__new_comments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`annotation_id` integer NOT NULL,
	`author_id` integer,
	`body` text NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`annotation_id`) REFERENCES `annotations`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`author_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "comments_body_length" CHECK(length("__new_comments"."body") <= 100000)
);
--> statement-breakpoint
INSERT INTO `__new_comments`("id", "annotation_id", "author_id", "body", "created_at") SELECT "id", "annotation_id", "author_id", "body", "created_at" FROM `comments`;--> statement-breakpoint
DROP TABLE `comments`;--> statement-breakpoint
ALTER TABLE `__new_comments` RENAME TO `comments`;--> statement-breakpoint
CREATE INDEX `comments_annotation` ON `comments` (`annotation_id`);--> statement-breakpoint
CREATE TABLE `__new_datasets` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`generator` text NOT NULL,
	`grid` integer NOT NULL,
	`count` integer NOT NULL,
	`seed` integer NOT NULL,
	`config` text NOT NULL,
	`status` text DEFAULT 'BUILDING' NOT NULL,
	`maze_count` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`content_hash` text,
	`splits` text NOT NULL,
	`job_id` integer,
	`created_by` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "datasets_name_length" CHECK(length("__new_datasets"."name") <= 200)
);
--> statement-breakpoint
INSERT INTO `__new_datasets`("id", "name", "generator", "grid", "count", "seed", "config", "status", "maze_count", "skipped", "content_hash", "splits", "job_id", "created_by", "created_at") SELECT "id", "name", "generator", "grid", "count", "seed", "config", "status", "maze_count", "skipped", "content_hash", "splits", "job_id", "created_by", "created_at" FROM `datasets`;--> statement-breakpoint
DROP TABLE `datasets`;--> statement-breakpoint
ALTER TABLE `__new_datasets` RENAME TO `datasets`;--> statement-breakpoint
CREATE TABLE `__new_experiments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`model_id` integer NOT NULL,
	`params` text NOT NULL,
	`seed` integer DEFAULT 0 NOT NULL,
	`dataset_id` integer,
	`checkpoint_id` integer,
	`job_id` integer,
	`summary` text,
	`created_by` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`model_id`) REFERENCES `models`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`job_id`) REFERENCES `jobs`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "experiments_params_length" CHECK(length("__new_experiments"."params") <= 262144)
);
--> statement-breakpoint
INSERT INTO `__new_experiments`("id", "kind", "model_id", "params", "seed", "dataset_id", "checkpoint_id", "job_id", "summary", "created_by", "created_at") SELECT "id", "kind", "model_id", "params", "seed", "dataset_id", "checkpoint_id", "job_id", "summary", "created_by", "created_at" FROM `experiments`;--> statement-breakpoint
DROP TABLE `experiments`;--> statement-breakpoint
ALTER TABLE `__new_experiments` RENAME TO `experiments`;--> statement-breakpoint
CREATE INDEX `experiments_model` ON `experiments` (`model_id`,`kind`);--> statement-breakpoint
CREATE INDEX `experiments_job` ON `experiments` (`job_id`);--> statement-breakpoint
CREATE TABLE `__new_jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`status` text DEFAULT 'QUEUED' NOT NULL,
	`params` text NOT NULL,
	`progress` text,
	`result` text,
	`error` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`cancel_requested` integer DEFAULT false NOT NULL,
	`created_by` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`heartbeat_at` integer,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "jobs_params_length" CHECK(length("__new_jobs"."params") <= 524288)
);
--> statement-breakpoint
INSERT INTO `__new_jobs`("id", "kind", "status", "params", "progress", "result", "error", "attempts", "cancel_requested", "created_by", "created_at", "started_at", "finished_at", "heartbeat_at") SELECT "id", "kind", "status", "params", "progress", "result", "error", "attempts", "cancel_requested", "created_by", "created_at", "started_at", "finished_at", "heartbeat_at" FROM `jobs`;--> statement-breakpoint
DROP TABLE `jobs`;--> statement-breakpoint
ALTER TABLE `__new_jobs` RENAME TO `jobs`;--> statement-breakpoint
CREATE INDEX `jobs_status` ON `jobs` (`status`,`id`);--> statement-breakpoint
CREATE TABLE `__new_models` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`config` text NOT NULL,
	`vocab` text NOT NULL,
	`lineage` text NOT NULL,
	`status` text DEFAULT 'READY' NOT NULL,
	`created_by` integer,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "models_name_length" CHECK(length("__new_models"."name") <= 200)
);
--> statement-breakpoint
INSERT INTO `__new_models`("id", "name", "config", "vocab", "lineage", "status", "created_by", "created_at") SELECT "id", "name", "config", "vocab", "lineage", "status", "created_by", "created_at" FROM `models`;--> statement-breakpoint
DROP TABLE `models`;--> statement-breakpoint
ALTER TABLE `__new_models` RENAME TO `models`;--> statement-breakpoint
CREATE TABLE `__new_users` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`password_hash` text,
	`disabled` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)) NOT NULL,
	CONSTRAINT "users_name_length" CHECK(length("__new_users"."name") <= 64)
);
--> statement-breakpoint
INSERT INTO `__new_users`("id", "name", "role", "password_hash", "disabled", "created_at") SELECT "id", "name", "role", "password_hash", "disabled", "created_at" FROM `users`;--> statement-breakpoint
DROP TABLE `users`;--> statement-breakpoint
ALTER TABLE `__new_users` RENAME TO `users`;--> statement-breakpoint
CREATE UNIQUE INDEX `users_name_unique` ON `users` (`name`);