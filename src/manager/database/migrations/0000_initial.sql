CREATE SCHEMA IF NOT EXISTS "torpedo";
--> statement-breakpoint
CREATE TABLE "torpedo"."datasets" (
	"id" serial PRIMARY KEY NOT NULL,
	"owner_id" integer NOT NULL,
	"name" text NOT NULL,
	"size" bigint NOT NULL,
	"sha256" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "torpedo"."jobs" (
	"id" text PRIMARY KEY NOT NULL,
	"owner_id" integer NOT NULL,
	"job" text NOT NULL,
	"spec" jsonb NOT NULL,
	"status" text NOT NULL,
	"phase" text DEFAULT 'queued' NOT NULL,
	"progress" jsonb,
	"tasks" jsonb,
	"counters" jsonb,
	"error" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "torpedo"."revoked_tokens" (
	"jti" text PRIMARY KEY NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "torpedo"."users" (
	"id" serial PRIMARY KEY NOT NULL,
	"username" text NOT NULL,
	"password_hash" text NOT NULL,
	"roles" text[] NOT NULL,
	"disabled" boolean DEFAULT false NOT NULL,
	"token_version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_username_unique" UNIQUE("username")
);
--> statement-breakpoint
ALTER TABLE "torpedo"."datasets" ADD CONSTRAINT "datasets_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "torpedo"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "torpedo"."jobs" ADD CONSTRAINT "jobs_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "torpedo"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "datasets_owner_name" ON "torpedo"."datasets" USING btree ("owner_id","name");--> statement-breakpoint
CREATE INDEX "jobs_owner" ON "torpedo"."jobs" USING btree ("owner_id");--> statement-breakpoint
CREATE INDEX "jobs_status" ON "torpedo"."jobs" USING btree ("status");