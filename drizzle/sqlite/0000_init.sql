CREATE TABLE `events` (
	`session_id` text NOT NULL,
	`seq` integer NOT NULL,
	`part` integer DEFAULT 0 NOT NULL,
	`ts` integer NOT NULL,
	`type` text NOT NULL,
	`calls` integer DEFAULT 0 NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`tool` text,
	`phase` text,
	`agent` text,
	`model` text,
	`success` integer,
	`duration_ms` real,
	`prompt_tokens` integer,
	`completion_tokens` integer,
	`total_tokens` integer,
	`cache_read_tokens` integer,
	`cache_write_tokens` integer,
	`reasoning_tokens` integer,
	`cost` real,
	`cost_nanos` integer,
	`error_class` text,
	`data` text,
	PRIMARY KEY(`session_id`, `seq`, `part`)
);
--> statement-breakpoint
CREATE INDEX `events_ts_idx` ON `events` (`ts`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`session_id` text PRIMARY KEY NOT NULL,
	`started_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`host` text,
	`last_seq` integer DEFAULT 0 NOT NULL,
	`document` text,
	`document_seq` integer
);
--> statement-breakpoint
CREATE INDEX `sessions_started_idx` ON `sessions` (`started_at`,`session_id`);--> statement-breakpoint
CREATE INDEX `sessions_host_idx` ON `sessions` (`host`);