-- MoeMesh cluster membership in PostgreSQL, for Orleans' ADO.NET clustering (invariant "Npgsql").
--
-- Every silo runs this script when it starts, before it joins, so it must be harmless to repeat
-- and safe when several silos start together:
--   * everything happens in one transaction that first takes a transaction-scoped advisory lock,
--     so concurrent runs queue up instead of racing on the system catalogs;
--   * tables are only created when missing; functions and query texts are (re)written on every run,
--     so a newer silo brings its fixes with it.
-- It can also be applied by hand: psql -v ON_ERROR_STOP=1 -f PostgresMembership.sql <database>
--
-- Orleans reads nothing but the OrleansQuery table; the rest is ours. Orleans binds parameters by
-- name (@DeploymentId, @Address, ...) and reads result columns by name, so those names are the
-- contract. The table and column names match the layout Orleans documents for PostgreSQL, so a
-- database prepared for Orleans by other means keeps working with these queries.

BEGIN;

-- Applying the script is quick; waiting for longer than this means something else holds a lock
-- (a migration, a stuck session), and failing with a message beats a silo hanging at start-up.
SET LOCAL lock_timeout = '30s';
-- "already exists, skipping" is the normal outcome on every start but the first.
SET LOCAL client_min_messages = warning;

-- Serialises concurrent runs of this script across the whole server (key: "MoeM", 1).
SELECT pg_advisory_xact_lock(1299146061, 1);

-- Query texts by key: how Orleans finds the statements below.
CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64)   NOT NULL,
    QueryText varchar(8000) NOT NULL,
    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);

-- One row per cluster (Orleans calls the cluster id "DeploymentId"). Version is the table-wide
-- optimistic-concurrency token: every insert or update of a member must name the version it read,
-- and moves it on by one.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp    timestamptz  NOT NULL DEFAULT now(),
    Version      integer      NOT NULL DEFAULT 0,
    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY (DeploymentId)
);

-- One row per silo incarnation: address, port and generation (start time ticks) identify it.
-- SuspectTimes is Orleans' own "silo,time|silo,time" list of who suspects this silo.
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150)  NOT NULL,
    Address      varchar(45)   NOT NULL,
    Port         integer       NOT NULL,
    Generation   integer       NOT NULL,
    SiloName     varchar(150)  NOT NULL,
    HostName     varchar(150)  NOT NULL,
    Status       integer       NOT NULL,
    ProxyPort    integer       NULL,
    SuspectTimes varchar(8000) NULL,
    StartTime    timestamptz   NOT NULL,
    IAmAliveTime timestamptz   NOT NULL,
    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId
        FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Adds a silo if the caller's view of the table is current. The version row is claimed first, so
-- writers of one cluster take turns on it; a silo already listed makes the insert fail, and the
-- exception handler then undoes the version bump as well (the block is a savepoint).
-- Returns true when the row was added, false when the version moved on or the silo was listed.
CREATE OR REPLACE FUNCTION moemesh_membership_insert(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_silo_name      text,
    p_host_name      text,
    p_status         integer,
    p_proxy_port     integer,
    p_start_time     timestamptz,
    p_i_am_alive     timestamptz,
    p_read_version   integer)
RETURNS boolean
LANGUAGE plpgsql
AS $body$
BEGIN
    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1,
           Timestamp = now()
     WHERE DeploymentId = p_deployment_id
       AND Version = p_read_version;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status, p_proxy_port, p_start_time, p_i_am_alive);
    RETURN true;
EXCEPTION
    WHEN unique_violation THEN
        RETURN false;
END
$body$;

-- Changes a silo's status, suspicions and liveness time under the same version rule as the insert.
-- A missing silo raises no_data_found inside the block, which rolls the version bump back.
CREATE OR REPLACE FUNCTION moemesh_membership_update(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_status         integer,
    p_suspect_times  text,
    p_i_am_alive     timestamptz,
    p_read_version   integer)
RETURNS boolean
LANGUAGE plpgsql
AS $body$
BEGIN
    UPDATE OrleansMembershipVersionTable
       SET Version = Version + 1,
           Timestamp = now()
     WHERE DeploymentId = p_deployment_id
       AND Version = p_read_version;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE OrleansMembershipTable
       SET Status = p_status,
           SuspectTimes = p_suspect_times,
           IAmAliveTime = p_i_am_alive
     WHERE DeploymentId = p_deployment_id
       AND Address = p_address
       AND Port = p_port
       AND Generation = p_generation;
    IF NOT FOUND THEN
        RAISE no_data_found;
    END IF;
    RETURN true;
EXCEPTION
    WHEN no_data_found THEN
        RETURN false;
END
$body$;

-- The statements Orleans runs, under the keys it looks up. Re-running the script refreshes them.
INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
    -- Creates the cluster's version row unless it exists; true when this call created it.
    ('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO OrleansMembershipVersionTable (DeploymentId)
    VALUES (@DeploymentId)
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM created) AS created;
$q$),

    -- The whole table: the version row, joined with every member (none: one row of NULLs, which
    -- Orleans recognises by the NULL StartTime).
    ('MembershipReadAllKey', $q$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
       m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable v
  LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
 WHERE v.DeploymentId = @DeploymentId;
$q$),

    -- One member and the version, in the same shape.
    ('MembershipReadRowKey', $q$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
       m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
  FROM OrleansMembershipVersionTable v
  LEFT JOIN OrleansMembershipTable m
         ON m.DeploymentId = v.DeploymentId
        AND m.Address = @Address
        AND m.Port = @Port
        AND m.Generation = @Generation
 WHERE v.DeploymentId = @DeploymentId;
$q$),

    ('InsertMembershipKey', $q$
SELECT moemesh_membership_insert(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
                                 @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version) AS inserted;
$q$),

    ('UpdateMembershipKey', $q$
SELECT moemesh_membership_update(@DeploymentId, @Address, @Port, @Generation, @Status,
                                 @SuspectTimes, @IAmAliveTime, @Version) AS updated;
$q$),

    -- The heartbeat: touches one row and deliberately leaves the version alone, so liveness
    -- updates never conflict with membership changes.
    ('UpdateIAmAlivetimeKey', $q$
UPDATE OrleansMembershipTable
   SET IAmAliveTime = @IAmAliveTime
 WHERE DeploymentId = @DeploymentId
   AND Address = @Address
   AND Port = @Port
   AND Generation = @Generation;
$q$),

    -- Gateways for clients: members in the requested status (Active) that accept clients.
    ('GatewaysQueryKey', $q$
SELECT Address, ProxyPort, Generation
  FROM OrleansMembershipTable
 WHERE DeploymentId = @DeploymentId
   AND Status = @Status
   AND ProxyPort > 0;
$q$),

    -- Forgets silos declared dead (status 6) whose last sign of life is older than @IAmAliveTime.
    ('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM OrleansMembershipTable
 WHERE DeploymentId = @DeploymentId
   AND Status = 6
   AND IAmAliveTime < @IAmAliveTime;
$q$),

    -- Drops a whole cluster: members first, because they reference the version row.
    ('DeleteMembershipTableEntriesKey', $q$
DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$q$)
ON CONFLICT (QueryKey) DO UPDATE
    SET QueryText = EXCLUDED.QueryText
    WHERE OrleansQuery.QueryText IS DISTINCT FROM EXCLUDED.QueryText;

COMMIT;
