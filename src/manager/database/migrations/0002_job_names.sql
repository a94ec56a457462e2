ALTER TABLE "torpedo"."jobs" ADD COLUMN "name" text;--> statement-breakpoint
CREATE INDEX "jobs_finished_at" ON "torpedo"."jobs" USING btree ("finished_at");