-- Macros the gold marts use, loaded by build-gold before the marts (files starting with _ are not marts).

-- gsis_player_id(id): the GSIS player id (00-00xxxxx). Play-by-play built before nflfastR 4.0 (e.g.
-- the Sept-2020 files) carries player ids as UUID-style strings that embed the GSIS id in ASCII hex
-- after a '3201' prefix ('32013030-2d30-3033-3532-3238…' → '00-0035228'); anything else is returned as is.
CREATE OR REPLACE MACRO gsis_player_id(id) AS (
  CASE
    WHEN length(id) = 36 AND starts_with(id, '3201') AND regexp_full_match(decode(unhex(substr(replace(id, '-', ''), 5, 20))), '\d\d-\d{7}')
      THEN decode(unhex(substr(replace(id, '-', ''), 5, 20)))
    ELSE id
  END
);

-- exact_sum(x) / exact_avg(x): sum and mean of a DOUBLE column computed in DECIMAL(38, 15) (values
-- rounded to 15 decimals first). A plain sum of doubles depends on the order in which DuckDB's
-- threads add them, so rebuilding unchanged rows could change their last bits, and lake diff would
-- report them as changed; decimal sums are exact, so a rebuild is bit-identical.
CREATE OR REPLACE MACRO exact_sum(x) AS CAST(sum(CAST(x AS DECIMAL(38, 15))) AS DOUBLE);
CREATE OR REPLACE MACRO exact_avg(x) AS CAST(avg(CAST(x AS DECIMAL(38, 15))) AS DOUBLE);
