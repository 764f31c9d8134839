-- IDM stand-in (test double) of PingIDM 8.1: creates the repository database and its role.
-- Run once as a PostgreSQL superuser, e.g. psql -U postgres < createuser.pgsql
create database openidm encoding 'utf8';
create role openidm with LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE inherit password 'openidm';
grant all privileges on database openidm to openidm;
