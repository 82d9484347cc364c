CREATE TABLE `annotation_targets` (
	`annotation_id` integer NOT NULL,
	`target_key` text NOT NULL,
	`target` text NOT NULL,
	`position` integer NOT NULL,
	PRIMARY KEY(`annotation_id`, `target_key`),
	FOREIGN KEY (`annotation_id`) REFERENCES `annotations`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `annotation_targets_key` ON `annotation_targets` (`target_key`);