-- Placeholder for migration 010 (contact identity, another branch); drop at merge.
-- tern refuses a step without SQL, hence the no-ops.
SELECT 1;

---- create above / drop below ----

SELECT 1;
