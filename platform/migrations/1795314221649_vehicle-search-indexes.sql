-- Up Migration
-- ListVehicles `query` is a case-insensitive prefix of VIN, make or model (architecture §5 "Data").
-- text_pattern_ops lets `LIKE 'prefix%'` use a btree whatever the database collation is,
-- so a fleet search never scans the whole table. VINs are stored upper-case (CHECK).
CREATE INDEX vehicles_vin_prefix_idx ON vehicles (vin text_pattern_ops);
CREATE INDEX vehicles_make_prefix_idx ON vehicles (lower(make) text_pattern_ops);
CREATE INDEX vehicles_model_prefix_idx ON vehicles (lower(model) text_pattern_ops);

-- Down Migration
DROP INDEX vehicles_model_prefix_idx;
DROP INDEX vehicles_make_prefix_idx;
DROP INDEX vehicles_vin_prefix_idx;
