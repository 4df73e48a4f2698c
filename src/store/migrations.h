// The database schema as an ordered list of migrations, shared by every backend.
//
// A migration is applied once, in its own transaction, and recorded in schema_migrations;
// a database is at the version of the highest migration applied. Later versions append
// migrations here and never edit an applied one.
//
// The SQL is written for both SQLite (3.35 or later) and PostgreSQL (12 or later): TEXT,
// INTEGER and BIGINT columns, times as BIGINT microseconds since the Unix epoch, booleans
// as INTEGER 0/1, partial indexes, no AUTOINCREMENT or SERIAL (the event log draws its ids
// from the `counters` table instead, so ids become visible in commit order on both).
// Backend settings (SQLite's PRAGMAs) belong to the backend, not here. Should a later
// migration need different SQL per backend, give Migration a second text for PostgreSQL
// rather than forking the list, so both keep the same version numbers.
#pragma once

#include <span>
#include <string_view>

namespace glidepath::store {

struct Migration {
  int version = 0;               // 1, 2, 3, ... in order, without gaps
  std::string_view description;  // recorded beside the version
  std::string_view sql;          // one or more statements separated by ';'
};

// The table that records applied migrations; created before the first migration runs.
extern const std::string_view kSchemaMigrationsTableSql;

std::span<const Migration> migrations();

// The version a fully migrated database has: the last migration's.
int latest_schema_version();

}  // namespace glidepath::store
