CREATE TABLE "annotation_targets" (
	"annotation_id" integer NOT NULL,
	"target_key" text NOT NULL,
	"target" text NOT NULL,
	"position" integer NOT NULL,
	CONSTRAINT "annotation_targets_annotation_id_target_key_pk" PRIMARY KEY("annotation_id","target_key")
);
--> statement-breakpoint
ALTER TABLE "annotation_targets" ADD CONSTRAINT "annotation_targets_annotation_id_annotations_id_fk" FOREIGN KEY ("annotation_id") REFERENCES "public"."annotations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "annotation_targets_key" ON "annotation_targets" USING btree ("target_key");