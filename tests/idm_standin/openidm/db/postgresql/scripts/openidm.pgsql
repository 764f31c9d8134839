-- IDM stand-in (test double) of PingIDM 8.1: repository schema.
-- Run ONCE per cluster, as the repository user, against the repository database:
--   psql -U openidm -d openidm < openidm.pgsql
-- Like the product's script it starts by dropping the schema: running it a second time
-- silently destroys every table and row of the repository, and succeeds.

DROP SCHEMA IF EXISTS openidm CASCADE;
CREATE SCHEMA openidm AUTHORIZATION openidm;

CREATE TABLE openidm.objecttypes (
  id BIGSERIAL NOT NULL,
  objecttype VARCHAR(255) DEFAULT NULL,
  PRIMARY KEY (id),
  CONSTRAINT idx_objecttypes_objecttype UNIQUE (objecttype)
);

CREATE TABLE openidm.genericobjects (
  id BIGSERIAL NOT NULL,
  objecttypes_id BIGINT NOT NULL,
  objectid VARCHAR(255) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  fullobject JSONB,
  PRIMARY KEY (id),
  CONSTRAINT fk_genericobjects_objecttypes FOREIGN KEY (objecttypes_id)
    REFERENCES openidm.objecttypes (id) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT idx_genericobjects_object UNIQUE (objecttypes_id, objectid)
);

CREATE TABLE openidm.managedobjects (
  id BIGSERIAL NOT NULL,
  objecttypes_id BIGINT NOT NULL,
  objectid VARCHAR(255) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  fullobject JSONB,
  PRIMARY KEY (id),
  CONSTRAINT fk_managedobjects_objectypes FOREIGN KEY (objecttypes_id)
    REFERENCES openidm.objecttypes (id) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT idx_managedobjects_object UNIQUE (objecttypes_id, objectid)
);

CREATE TABLE openidm.configobjects (
  id BIGSERIAL NOT NULL,
  objecttypes_id BIGINT NOT NULL,
  objectid VARCHAR(255) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  fullobject JSONB,
  PRIMARY KEY (id),
  CONSTRAINT fk_configobjects_objecttypes FOREIGN KEY (objecttypes_id)
    REFERENCES openidm.objecttypes (id) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT idx_configobjects_object UNIQUE (objecttypes_id, objectid)
);

CREATE TABLE openidm.clusterobjects (
  id BIGSERIAL NOT NULL,
  objecttypes_id BIGINT NOT NULL,
  objectid VARCHAR(255) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  fullobject JSONB,
  activation VARCHAR(16),  -- since 8.1.0 (active/passive clustering)
  PRIMARY KEY (id),
  CONSTRAINT fk_clusterobjects_objecttypes FOREIGN KEY (objecttypes_id)
    REFERENCES openidm.objecttypes (id) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT idx_clusterobjects_object UNIQUE (objecttypes_id, objectid)
);

CREATE TABLE openidm.schedulerobjects (
  id BIGSERIAL NOT NULL,
  objecttypes_id BIGINT NOT NULL,
  objectid VARCHAR(255) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  fullobject JSONB,
  PRIMARY KEY (id),
  CONSTRAINT fk_schedulerobjects_objectypes FOREIGN KEY (objecttypes_id)
    REFERENCES openidm.objecttypes (id) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT idx_schedulerobjects_object UNIQUE (objecttypes_id, objectid)
);

CREATE TABLE openidm.relationships (
  id BIGSERIAL NOT NULL,
  objecttypes_id BIGINT NOT NULL,
  objectid VARCHAR(255) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  fullobject JSONB,
  firstresourcecollection VARCHAR(255),
  firstresourceid VARCHAR(56),
  firstpropertyname VARCHAR(100),
  secondresourcecollection VARCHAR(255),
  secondresourceid VARCHAR(56),
  secondpropertyname VARCHAR(100),
  PRIMARY KEY (id),
  CONSTRAINT fk_relationships_objecttypes FOREIGN KEY (objecttypes_id)
    REFERENCES openidm.objecttypes (id) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT idx_relationships_object UNIQUE (objecttypes_id, objectid)
);

CREATE TABLE openidm.links (
  objectid VARCHAR(38) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  linktype VARCHAR(50) NOT NULL,
  linkqualifier VARCHAR(50) NOT NULL,
  firstid VARCHAR(255) NOT NULL,
  secondid VARCHAR(255) NOT NULL,
  PRIMARY KEY (objectid)
);

CREATE TABLE openidm.securitykeys (
  objectid VARCHAR(38) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  keypair TEXT,
  PRIMARY KEY (objectid)
);

CREATE TABLE openidm.internaluser (
  objectid VARCHAR(254) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  pwd VARCHAR(510) DEFAULT NULL,
  PRIMARY KEY (objectid)
);

CREATE TABLE openidm.internalrole (
  objectid VARCHAR(255) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  name VARCHAR(64),
  description VARCHAR(510),
  PRIMARY KEY (objectid)
);

CREATE TABLE openidm.updateobjects (
  id BIGSERIAL NOT NULL,
  objecttypes_id BIGINT NOT NULL,
  objectid VARCHAR(255) NOT NULL,
  rev VARCHAR(38) NOT NULL,
  fullobject JSONB,
  PRIMARY KEY (id),
  CONSTRAINT fk_updateobjects_objecttypes FOREIGN KEY (objecttypes_id)
    REFERENCES openidm.objecttypes (id) ON DELETE CASCADE ON UPDATE NO ACTION,
  CONSTRAINT idx_updateobjects_object UNIQUE (objecttypes_id, objectid)
);

-- Test double only: one row per schedule execution, so tests can count executions. A persisted
-- trigger can be recorded once across the cluster (the partial unique index); the node that
-- inserts it is the one that runs it.
CREATE TABLE openidm.standin_schedule_runs (
  id BIGSERIAL NOT NULL,
  schedule VARCHAR(255) NOT NULL,
  fire_time TIMESTAMP WITH TIME ZONE NOT NULL,
  node_id VARCHAR(255) NOT NULL,
  persisted BOOLEAN NOT NULL,
  outcome VARCHAR(510) NOT NULL DEFAULT 'ok',
  ran_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (id)
);
CREATE UNIQUE INDEX idx_standin_schedule_runs_trigger
  ON openidm.standin_schedule_runs (schedule, fire_time) WHERE persisted;

INSERT INTO openidm.internaluser (objectid, rev, pwd) VALUES ('openidm-admin', '0', 'openidm-admin');
INSERT INTO openidm.internaluser (objectid, rev, pwd) VALUES ('anonymous', '0', 'anonymous');

INSERT INTO openidm.internalrole (objectid, rev, name, description)
  VALUES ('openidm-admin', '0', 'openidm-admin', 'Administrative access');
INSERT INTO openidm.internalrole (objectid, rev, name, description)
  VALUES ('openidm-authorized', '0', 'openidm-authorized', 'Basic minimum user');
INSERT INTO openidm.internalrole (objectid, rev, name, description)
  VALUES ('openidm-reg', '0', 'openidm-reg', 'Anonymous access');
