-- IDM stand-in (test double) of PingIDM 8.1: optional indexes for larger deployments.
-- Run after openidm.pgsql, as the repository user, when the repository grows. Plain CREATE INDEX:
-- a second run fails ("already exists").

CREATE INDEX idx_managedobjects_fullobject ON openidm.managedobjects USING gin (fullobject jsonb_path_ops);
CREATE INDEX idx_genericobjects_fullobject ON openidm.genericobjects USING gin (fullobject jsonb_path_ops);
CREATE INDEX idx_relationships_fullobject ON openidm.relationships USING gin (fullobject jsonb_path_ops);
