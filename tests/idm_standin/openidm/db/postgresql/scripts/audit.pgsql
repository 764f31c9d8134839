-- IDM stand-in (test double) of PingIDM 8.1: audit tables, only needed when audit events go to
-- the repository. Run once, after openidm.pgsql, as the repository user. Plain CREATE.

CREATE TABLE openidm.auditauthentication (
  objectid VARCHAR(56) NOT NULL,
  transactionid VARCHAR(255) NOT NULL,
  activitydate VARCHAR(29) NOT NULL,
  userid VARCHAR(255),
  eventname VARCHAR(50),
  result VARCHAR(255),
  principals TEXT,
  context TEXT,
  entries TEXT,
  trackingids TEXT,
  PRIMARY KEY (objectid)
);

CREATE TABLE openidm.auditaccess (
  objectid VARCHAR(56) NOT NULL,
  activitydate VARCHAR(29) NOT NULL,
  eventname VARCHAR(255),
  transactionid VARCHAR(255) NOT NULL,
  userid VARCHAR(255),
  trackingids TEXT,
  server_ip VARCHAR(40),
  server_port VARCHAR(5),
  client_ip VARCHAR(40),
  client_port VARCHAR(5),
  request_protocol VARCHAR(255) NULL,
  request_operation VARCHAR(255) NULL,
  response_status VARCHAR(10) NULL,
  response_statuscode VARCHAR(255) NULL,
  response_elapsedtime VARCHAR(255) NULL,
  PRIMARY KEY (objectid)
);

CREATE TABLE openidm.auditconfig (
  objectid VARCHAR(56) NOT NULL,
  activitydate VARCHAR(29) NOT NULL,
  eventname VARCHAR(255),
  transactionid VARCHAR(255) NOT NULL,
  userid VARCHAR(255),
  trackingids TEXT,
  runas VARCHAR(255),
  configobjectid VARCHAR(255) NULL,
  operation VARCHAR(255) NULL,
  beforeObject TEXT,
  afterObject TEXT,
  changedfields TEXT,
  rev VARCHAR(255),
  PRIMARY KEY (objectid)
);

CREATE TABLE openidm.auditactivity (
  objectid VARCHAR(56) NOT NULL,
  activitydate VARCHAR(29) NOT NULL,
  eventname VARCHAR(255),
  transactionid VARCHAR(255) NOT NULL,
  userid VARCHAR(255),
  trackingids TEXT,
  runas VARCHAR(255),
  activityobjectid VARCHAR(255) NULL,
  operation VARCHAR(255) NULL,
  subjectbefore TEXT,
  subjectafter TEXT,
  changedfields TEXT,
  subjectrev VARCHAR(255),
  passwordchanged VARCHAR(5),
  message TEXT,
  status VARCHAR(20),
  PRIMARY KEY (objectid)
);

CREATE TABLE openidm.auditrecon (
  objectid VARCHAR(56) NOT NULL,
  transactionid VARCHAR(255) NOT NULL,
  activitydate VARCHAR(29) NOT NULL,
  eventname VARCHAR(50),
  userid VARCHAR(255),
  trackingids TEXT,
  activity VARCHAR(24),
  exceptiondetail TEXT,
  linkqualifier VARCHAR(255),
  mapping VARCHAR(511),
  message TEXT,
  reconid VARCHAR(56),
  situation VARCHAR(24),
  sourceobjectid VARCHAR(511),
  status VARCHAR(20),
  targetobjectid VARCHAR(511),
  PRIMARY KEY (objectid)
);

CREATE TABLE openidm.auditsync (
  objectid VARCHAR(56) NOT NULL,
  transactionid VARCHAR(255) NOT NULL,
  activitydate VARCHAR(29) NOT NULL,
  eventname VARCHAR(50),
  userid VARCHAR(255),
  trackingids TEXT,
  activity VARCHAR(24),
  exceptiondetail TEXT,
  linkqualifier VARCHAR(255),
  mapping VARCHAR(511),
  message TEXT,
  situation VARCHAR(24),
  sourceobjectid VARCHAR(511),
  status VARCHAR(20),
  targetobjectid VARCHAR(511),
  PRIMARY KEY (objectid)
);
