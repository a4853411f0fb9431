-- Queries of matching.db.migrate and matching.db.connection: the migration
-- history the Supabase CLI shares, and creating or dropping whole databases.

-- name: migrate_lock
-- One lock for every migrating process: concurrent runs take turns.
select pg_advisory_lock(%(key)s)

-- name: migrate_unlock
-- Releases the lock taken by migrate_lock (held by this session).
select pg_advisory_unlock(%(key)s)

-- name: applied_migration_versions
-- Versions already applied, by either tool.
select version from supabase_migrations.schema_migrations

-- name: relation_exists
-- Whether a relation (schema-qualified name) exists, e.g. the job queue's table.
select pg_catalog.to_regclass(%(name)s) is not null

-- name: auth_schema_exists
-- Supabase (or an earlier shim) provides the auth schema; plain Postgres does not.
select exists (select 1 from pg_catalog.pg_namespace where nspname = 'auth')

-- name: create_history_schema
-- The Supabase CLI's history schema.
create schema if not exists supabase_migrations

-- name: create_history_table
-- Same shape the Supabase CLI creates.
create table if not exists supabase_migrations.schema_migrations
    (version text not null primary key)

-- name: extend_history_table
-- The CLI adds these columns the same way.
alter table supabase_migrations.schema_migrations
    add column if not exists statements text[],
    add column if not exists name text

-- name: record_migration
-- One applied file, recorded as the CLI records it.
insert into supabase_migrations.schema_migrations (version, statements, name)
values (%(version)s, %(statements)s, %(name)s)

-- name: database_exists
-- Whether a database of this name exists on the server.
select exists (select 1 from pg_catalog.pg_database where datname = %(name)s)

-- name: create_database
-- A new, empty database; `name` is an identifier.
create database {name}

-- name: create_database_from_template
-- A clone of a template database (milliseconds); both are identifiers.
create database {name} template {template}

-- name: drop_database
-- Drops a database even while clients are connected; `name` is an identifier.
drop database if exists {name} with (force)
