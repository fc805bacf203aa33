-- The bronze lineage stamps of each row (src/pipeline/bronze STAMP_COLUMNS): the last five
-- columns of every silver rule, so this fragment closes the SELECT list.
  CAST("source" AS VARCHAR) AS "source",
  CAST(ingested_at AS TIMESTAMPTZ) AS ingested_at,
  CAST(pipeline_version AS VARCHAR) AS pipeline_version,
  CAST(upstream_version AS VARCHAR) AS upstream_version,
  CAST(run_id AS VARCHAR) AS run_id
