-- IDM stand-in (test double): updates an 8.0 repository for 8.1; run it once, with IDM shut down on every node.
-- As the repository user: psql -U openidm -d openidm < updates/01-clusterobjects-activation.sql
-- Like a real update script it is not idempotent: a second run fails (the column already exists).
ALTER TABLE openidm.clusterobjects ADD COLUMN activation VARCHAR(16);
