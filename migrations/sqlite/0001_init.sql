-- Tollgate schema, SQLite dialect. migrations/postgresql/0001_init.sql has the same
-- tables, columns and views. Times are TEXT 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC.
-- Money columns (spend, cost) are INTEGER units of 1e-10 USD so sums are exact;
-- the finance views expose them as decimal USD text (spend_usd).

CREATE TABLE keys (
  key_id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  key_name TEXT NOT NULL DEFAULT '',
  key_alias TEXT NOT NULL DEFAULT '',
  team_id TEXT NOT NULL DEFAULT '',
  user_id TEXT NOT NULL DEFAULT '',
  models TEXT NOT NULL DEFAULT '[]',
  aliases TEXT NOT NULL DEFAULT '{}',
  allowed_routes TEXT NOT NULL DEFAULT '[]',
  max_budget REAL,
  soft_budget REAL,
  budget_duration TEXT NOT NULL DEFAULT '',
  budget_reset_at TEXT,
  rpm_limit INTEGER,
  tpm_limit INTEGER,
  max_parallel_requests INTEGER,
  model_rpm_limit TEXT NOT NULL DEFAULT '{}',
  model_tpm_limit TEXT NOT NULL DEFAULT '{}',
  spend INTEGER NOT NULL DEFAULT 0,
  expires TEXT,
  blocked INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  tags TEXT NOT NULL DEFAULT '[]',
  created_by TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX keys_alias_unique ON keys (key_alias) WHERE key_alias <> '';
CREATE INDEX keys_team ON keys (team_id);
CREATE INDEX keys_user ON keys (user_id);

CREATE TABLE teams (
  team_id TEXT PRIMARY KEY,
  team_alias TEXT NOT NULL DEFAULT '',
  models TEXT NOT NULL DEFAULT '[]',
  max_budget REAL,
  soft_budget REAL,
  budget_duration TEXT NOT NULL DEFAULT '',
  budget_reset_at TEXT,
  rpm_limit INTEGER,
  tpm_limit INTEGER,
  max_parallel_requests INTEGER,
  model_rpm_limit TEXT NOT NULL DEFAULT '{}',
  model_tpm_limit TEXT NOT NULL DEFAULT '{}',
  spend INTEGER NOT NULL DEFAULT 0,
  blocked INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  tags TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  user_email TEXT NOT NULL DEFAULT '',
  user_alias TEXT NOT NULL DEFAULT '',
  user_role TEXT NOT NULL DEFAULT '',
  team_id TEXT NOT NULL DEFAULT '',
  models TEXT NOT NULL DEFAULT '[]',
  max_budget REAL,
  soft_budget REAL,
  budget_duration TEXT NOT NULL DEFAULT '',
  budget_reset_at TEXT,
  rpm_limit INTEGER,
  tpm_limit INTEGER,
  max_parallel_requests INTEGER,
  model_rpm_limit TEXT NOT NULL DEFAULT '{}',
  model_tpm_limit TEXT NOT NULL DEFAULT '{}',
  spend INTEGER NOT NULL DEFAULT 0,
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX users_team ON users (team_id);

CREATE TABLE end_users (
  end_user_id TEXT PRIMARY KEY,
  alias TEXT NOT NULL DEFAULT '',
  max_budget REAL,
  soft_budget REAL,
  budget_duration TEXT NOT NULL DEFAULT '',
  budget_reset_at TEXT,
  rpm_limit INTEGER,
  tpm_limit INTEGER,
  max_parallel_requests INTEGER,
  model_rpm_limit TEXT NOT NULL DEFAULT '{}',
  model_tpm_limit TEXT NOT NULL DEFAULT '{}',
  spend INTEGER NOT NULL DEFAULT 0,
  blocked INTEGER NOT NULL DEFAULT 0
);

-- One row per request that reached the router (the ledger).
CREATE TABLE spend_logs (
  request_id TEXT PRIMARY KEY,
  start_time TEXT NOT NULL,
  end_time TEXT NOT NULL,
  key_id TEXT NOT NULL DEFAULT '',
  key_alias TEXT NOT NULL DEFAULT '',
  key_name TEXT NOT NULL DEFAULT '',
  team_id TEXT NOT NULL DEFAULT '',
  user_id TEXT NOT NULL DEFAULT '',
  end_user TEXT NOT NULL DEFAULT '',
  route TEXT NOT NULL DEFAULT '',
  requested_model TEXT NOT NULL DEFAULT '',
  model_group TEXT NOT NULL DEFAULT '',
  deployment TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  api_base TEXT NOT NULL DEFAULT '',
  stream INTEGER NOT NULL DEFAULT 0,
  status INTEGER NOT NULL DEFAULT 0,
  error_type TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cost INTEGER NOT NULL DEFAULT 0,
  latency_ms INTEGER NOT NULL DEFAULT 0,
  ttft_ms INTEGER,
  overhead_ms INTEGER NOT NULL DEFAULT 0,
  cache_hit INTEGER NOT NULL DEFAULT 0,
  tags TEXT NOT NULL DEFAULT '[]',
  metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX spend_logs_start ON spend_logs (start_time);
CREATE INDEX spend_logs_key_start ON spend_logs (key_id, start_time);
CREATE INDEX spend_logs_team_start ON spend_logs (team_id, start_time);

-- Requests turned away by auth, policy, limits or budgets (reason says why).
CREATE TABLE rejected_requests (
  request_id TEXT PRIMARY KEY,
  start_time TEXT NOT NULL,
  end_time TEXT NOT NULL,
  key_id TEXT NOT NULL DEFAULT '',
  key_alias TEXT NOT NULL DEFAULT '',
  key_name TEXT NOT NULL DEFAULT '',
  team_id TEXT NOT NULL DEFAULT '',
  user_id TEXT NOT NULL DEFAULT '',
  end_user TEXT NOT NULL DEFAULT '',
  route TEXT NOT NULL DEFAULT '',
  requested_model TEXT NOT NULL DEFAULT '',
  model_group TEXT NOT NULL DEFAULT '',
  deployment TEXT NOT NULL DEFAULT '',
  provider TEXT NOT NULL DEFAULT '',
  api_base TEXT NOT NULL DEFAULT '',
  stream INTEGER NOT NULL DEFAULT 0,
  status INTEGER NOT NULL DEFAULT 0,
  error_type TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cost INTEGER NOT NULL DEFAULT 0,
  latency_ms INTEGER NOT NULL DEFAULT 0,
  ttft_ms INTEGER,
  overhead_ms INTEGER NOT NULL DEFAULT 0,
  cache_hit INTEGER NOT NULL DEFAULT 0,
  tags TEXT NOT NULL DEFAULT '[]',
  metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX rejected_requests_start ON rejected_requests (start_time);

-- Rollup of spend_logs by UTC day, grown in the same transaction as the rows.
CREATE TABLE daily_spend (
  day TEXT NOT NULL,
  key_id TEXT NOT NULL,
  team_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  end_user TEXT NOT NULL,
  model_group TEXT NOT NULL,
  provider TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  failed_requests INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cost INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, key_id, team_id, user_id, end_user, model_group, provider)
);

CREATE TABLE audit_events (
  event_id TEXT PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL DEFAULT '',
  object_type TEXT NOT NULL DEFAULT '',
  object_id TEXT NOT NULL DEFAULT '',
  before TEXT,
  after TEXT
);
CREATE INDEX audit_events_object ON audit_events (object_id, at);

-- Bumped by every admin write; gateways poll it to refresh their caches.
CREATE TABLE change_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO change_version (id, version) VALUES (1, 1);

-- Finance views: spend per team, key, user, model (group) and provider, per UTC day
-- and per month ('YYYY-MM'). spend_usd is exact decimal USD.

CREATE VIEW spend_by_team_daily AS
SELECT d.day, d.team_id,
  COALESCE(o.team_alias, '') AS team_alias,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT day AS day, team_id, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d
LEFT JOIN teams o ON o.team_id = d.team_id;

CREATE VIEW spend_by_team_monthly AS
SELECT d.month, d.team_id,
  COALESCE(o.team_alias, '') AS team_alias,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT substr(day, 1, 7) AS month, team_id, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d
LEFT JOIN teams o ON o.team_id = d.team_id;

CREATE VIEW spend_by_key_daily AS
SELECT d.day, d.key_id,
  COALESCE(o.key_alias, '') AS key_alias,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT day AS day, key_id, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d
LEFT JOIN keys o ON o.key_id = d.key_id;

CREATE VIEW spend_by_key_monthly AS
SELECT d.month, d.key_id,
  COALESCE(o.key_alias, '') AS key_alias,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT substr(day, 1, 7) AS month, key_id, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d
LEFT JOIN keys o ON o.key_id = d.key_id;

CREATE VIEW spend_by_user_daily AS
SELECT d.day, d.user_id,
  COALESCE(o.user_alias, '') AS user_alias,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT day AS day, user_id, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d
LEFT JOIN users o ON o.user_id = d.user_id;

CREATE VIEW spend_by_user_monthly AS
SELECT d.month, d.user_id,
  COALESCE(o.user_alias, '') AS user_alias,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT substr(day, 1, 7) AS month, user_id, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d
LEFT JOIN users o ON o.user_id = d.user_id;

CREATE VIEW spend_by_model_daily AS
SELECT d.day, d.model_group,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT day AS day, model_group, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d;

CREATE VIEW spend_by_model_monthly AS
SELECT d.month, d.model_group,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT substr(day, 1, 7) AS month, model_group, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d;

CREATE VIEW spend_by_provider_daily AS
SELECT d.day, d.provider,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT day AS day, provider, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d;

CREATE VIEW spend_by_provider_monthly AS
SELECT d.month, d.provider,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT substr(day, 1, 7) AS month, provider, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2) d;

CREATE VIEW spend_by_model_provider_daily AS
SELECT d.day, d.model_group, d.provider,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT day AS day, model_group, provider, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2, 3) d;

CREATE VIEW spend_by_model_provider_monthly AS
SELECT d.month, d.model_group, d.provider,
  d.requests, d.failed_requests, d.prompt_tokens, d.completion_tokens,
  printf('%d.%010d', d.cost / 10000000000, d.cost % 10000000000) AS spend_usd
FROM (SELECT substr(day, 1, 7) AS month, model_group, provider, SUM(requests) AS requests,
        SUM(failed_requests) AS failed_requests, SUM(prompt_tokens) AS prompt_tokens,
        SUM(completion_tokens) AS completion_tokens, SUM(cost) AS cost
      FROM daily_spend GROUP BY 1, 2, 3) d;
