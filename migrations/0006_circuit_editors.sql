CREATE TABLE `circuit_editors` (
	`circuit_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	PRIMARY KEY(`circuit_id`, `user_id`),
	FOREIGN KEY (`circuit_id`) REFERENCES `circuits`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
