CREATE TABLE "events" (
	"session_id" text NOT NULL,
	"seq" bigint NOT NULL,
	"part" bigint DEFAULT 0 NOT NULL,
	"ts" bigint NOT NULL,
	"type" text NOT NULL,
	"calls" bigint DEFAULT 0 NOT NULL,
	"failures" bigint DEFAULT 0 NOT NULL,
	"tool" text,
	"phase" text,
	"agent" text,
	"model" text,
	"success" boolean,
	"duration_ms" double precision,
	"prompt_tokens" bigint,
	"completion_tokens" bigint,
	"total_tokens" bigint,
	"cache_read_tokens" bigint,
	"cache_write_tokens" bigint,
	"reasoning_tokens" bigint,
	"cost" double precision,
	"cost_nanos" bigint,
	"error_class" text,
	"data" text,
	CONSTRAINT "events_session_id_seq_part_pk" PRIMARY KEY("session_id","seq","part")
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"session_id" text PRIMARY KEY NOT NULL,
	"started_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"host" text,
	"last_seq" bigint DEFAULT 0 NOT NULL,
	"document" text,
	"document_seq" bigint
);
--> statement-breakpoint
CREATE INDEX "events_ts_idx" ON "events" USING btree ("ts");--> statement-breakpoint
CREATE INDEX "sessions_started_idx" ON "sessions" USING btree ("started_at","session_id");--> statement-breakpoint
CREATE INDEX "sessions_host_idx" ON "sessions" USING btree ("host");