-- IDM stand-in (test double) of PingIDM 8.1: workflow (Flowable) tables, a small subset.
-- Created in the connection's default schema, with plain CREATE: run it once.
CREATE TABLE act_ge_property (
  name_ VARCHAR(64),
  value_ VARCHAR(300),
  rev_ INTEGER,
  PRIMARY KEY (name_)
);

INSERT INTO act_ge_property VALUES ('common.schema.version', '7.1.0.0', 1);
INSERT INTO act_ge_property VALUES ('next.dbid', '1', 1);

CREATE TABLE act_ge_bytearray (
  id_ VARCHAR(64) NOT NULL,
  rev_ INTEGER,
  name_ VARCHAR(255),
  deployment_id_ VARCHAR(64),
  bytes_ BYTEA,
  generated_ BOOLEAN,
  PRIMARY KEY (id_)
);

CREATE TABLE act_re_deployment (
  id_ VARCHAR(64) NOT NULL,
  name_ VARCHAR(255),
  category_ VARCHAR(255),
  key_ VARCHAR(255),
  tenant_id_ VARCHAR(255) DEFAULT '',
  deploy_time_ TIMESTAMP,
  PRIMARY KEY (id_)
);

CREATE TABLE act_re_procdef (
  id_ VARCHAR(64) NOT NULL,
  rev_ INTEGER,
  category_ VARCHAR(255),
  name_ VARCHAR(255),
  key_ VARCHAR(255) NOT NULL,
  version_ INTEGER NOT NULL,
  deployment_id_ VARCHAR(64),
  resource_name_ VARCHAR(4000),
  suspension_state_ INTEGER,
  tenant_id_ VARCHAR(255) DEFAULT '',
  PRIMARY KEY (id_)
);

CREATE TABLE act_ru_execution (
  id_ VARCHAR(64),
  rev_ INTEGER,
  proc_inst_id_ VARCHAR(64),
  business_key_ VARCHAR(255),
  parent_id_ VARCHAR(64),
  proc_def_id_ VARCHAR(64),
  act_id_ VARCHAR(255),
  is_active_ BOOLEAN,
  start_time_ TIMESTAMP,
  tenant_id_ VARCHAR(255) DEFAULT '',
  PRIMARY KEY (id_)
);

CREATE TABLE act_ru_task (
  id_ VARCHAR(64),
  rev_ INTEGER,
  execution_id_ VARCHAR(64),
  proc_inst_id_ VARCHAR(64),
  proc_def_id_ VARCHAR(64),
  name_ VARCHAR(255),
  assignee_ VARCHAR(255),
  create_time_ TIMESTAMP,
  tenant_id_ VARCHAR(255) DEFAULT '',
  PRIMARY KEY (id_)
);

CREATE TABLE act_hi_procinst (
  id_ VARCHAR(64) NOT NULL,
  rev_ INTEGER DEFAULT 1,
  proc_inst_id_ VARCHAR(64) NOT NULL,
  business_key_ VARCHAR(255),
  proc_def_id_ VARCHAR(64) NOT NULL,
  start_time_ TIMESTAMP NOT NULL,
  end_time_ TIMESTAMP,
  tenant_id_ VARCHAR(255) DEFAULT '',
  PRIMARY KEY (id_),
  UNIQUE (proc_inst_id_)
);
