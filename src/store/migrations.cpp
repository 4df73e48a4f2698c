#include "store/migrations.h"

namespace glidepath::store {

const std::string_view kSchemaMigrationsTableSql = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version       INTEGER PRIMARY KEY,
  description   TEXT    NOT NULL,
  applied_at_us BIGINT  NOT NULL
)
)sql";

namespace {

// Column names avoid words that are keywords in either dialect (time, count, minute).
constexpr Migration kMigrations[] = {
    {1, "services, deployments, event log, API keys, usage, quotas", R"sql(
CREATE TABLE service_state (
  name          TEXT   PRIMARY KEY,
  live_version  TEXT   NOT NULL,
  versions_json TEXT   NOT NULL,  -- [{"name","upstreams","spec_path"}]
  traffic_json  TEXT,             -- {"v1": 90, "v2": 10}, NULL when there is no override
  updated_at_us BIGINT NOT NULL
);

-- The whole deployment is `body` (deploy::to_json_text); the other columns are copies of
-- its fields that queries filter and sort on.
CREATE TABLE deployments (
  id            TEXT    PRIMARY KEY,
  service       TEXT    NOT NULL,
  state         TEXT    NOT NULL,
  active        INTEGER NOT NULL CHECK (active IN (0, 1)),
  started_at_us BIGINT  NOT NULL,
  updated_at_us BIGINT  NOT NULL,
  revision      BIGINT  NOT NULL,
  body          TEXT    NOT NULL
);
-- SPEC section 3: only one deployment per service runs at a time. The database enforces
-- it, so two admin requests (or two processes of a fleet) cannot both start one.
CREATE UNIQUE INDEX deployments_one_active_per_service ON deployments (service) WHERE active = 1;
CREATE INDEX deployments_by_service_started ON deployments (service, started_at_us);
CREATE INDEX deployments_by_started ON deployments (started_at_us);

-- Monotonic counters, incremented inside the writing transaction. Holding the row until
-- commit serializes writers, so a reader never sees id N+1 before id N has committed.
CREATE TABLE counters (
  name  TEXT   PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('event_log', 0);

CREATE TABLE event_log (
  id            BIGINT PRIMARY KEY,
  service       TEXT   NOT NULL,
  deployment_id TEXT   REFERENCES deployments (id),  -- NULL: not about one deployment
  event_time_us BIGINT NOT NULL,
  type          TEXT   NOT NULL,
  message       TEXT   NOT NULL
);
CREATE INDEX event_log_by_deployment ON event_log (deployment_id, id);

CREATE TABLE api_keys (
  id            TEXT    PRIMARY KEY,
  consumer      TEXT    NOT NULL,
  contact       TEXT    NOT NULL,
  metadata_json TEXT    NOT NULL,  -- {"team": "payments"}
  key_hash      TEXT    NOT NULL UNIQUE,
  key_prefix    TEXT    NOT NULL,
  rate          TEXT,
  quota         TEXT,
  preview       INTEGER NOT NULL CHECK (preview IN (0, 1)),
  created_at_us BIGINT  NOT NULL,
  revoked_at_us BIGINT
);
CREATE INDEX api_keys_by_consumer ON api_keys (consumer);

CREATE TABLE usage_buckets (
  consumer      TEXT   NOT NULL,
  service       TEXT   NOT NULL,
  operation     TEXT   NOT NULL,
  version       TEXT   NOT NULL,
  status_class  TEXT   NOT NULL,
  minute_start  BIGINT NOT NULL,  -- epoch seconds
  requests      BIGINT NOT NULL,
  first_seen_us BIGINT NOT NULL,
  last_seen_us  BIGINT NOT NULL,
  PRIMARY KEY (consumer, service, operation, version, status_class, minute_start)
);
CREATE INDEX usage_by_service_minute ON usage_buckets (service, minute_start);
CREATE INDEX usage_by_minute ON usage_buckets (minute_start);

CREATE TABLE quota_usage (
  key_id       TEXT   NOT NULL REFERENCES api_keys (id),
  period_start BIGINT NOT NULL,  -- epoch seconds
  used         BIGINT NOT NULL,
  PRIMARY KEY (key_id, period_start)
)
)sql"},
    // SPEC section 9: each gateway of a fleet writes one row per series per second, and
    // the leading controller reads the last few seconds of every gateway each second. The
    // key starts with the second so that read, and pruning by age, are range scans of the
    // primary key. The latency histogram's buckets are text (metrics/window_codec.h): a
    // second has tens of non-zero buckets out of 1344, and the text is the same in both
    // dialects.
    {2, "per-second metric windows of a fleet's gateways", R"sql(
CREATE TABLE metric_windows (
  service         TEXT   NOT NULL,
  version         TEXT   NOT NULL,
  epoch_second    BIGINT NOT NULL,
  gateway         TEXT   NOT NULL,
  requests        BIGINT NOT NULL,
  status_1xx      BIGINT NOT NULL,
  status_2xx      BIGINT NOT NULL,
  status_3xx      BIGINT NOT NULL,
  status_4xx      BIGINT NOT NULL,
  status_5xx      BIGINT NOT NULL,
  bytes_in        BIGINT NOT NULL,
  bytes_out       BIGINT NOT NULL,
  latency_sum_us  BIGINT NOT NULL,
  latency_min_us  BIGINT NOT NULL,
  latency_max_us  BIGINT NOT NULL,
  latency_buckets TEXT   NOT NULL,  -- "index:count,...", ascending; '' when no latency
  PRIMARY KEY (epoch_second, service, version, gateway)
)
)sql"},
};

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int latest_schema_version() {
  return kMigrations[std::size(kMigrations) - 1].version;
}

}  // namespace glidepath::store
