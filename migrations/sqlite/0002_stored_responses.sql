-- Stored responses of the OpenAI Responses API (docs/api.md, "Stored
-- responses"); include/tollgate/response_store.h has the contract. Times are
-- INTEGER microseconds since 1970-01-01 UTC: these rows are read by the
-- gateway only, and an integer compares the same in both dialects.

CREATE TABLE stored_responses (
  response_id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,               -- 'team:<id>', 'key:<id>', 'static:<name>', 'master', 'anonymous'
  created_at_us INTEGER NOT NULL,
  expires_at_us INTEGER NOT NULL,
  model TEXT NOT NULL DEFAULT '',
  previous_response_id TEXT NOT NULL DEFAULT '',
  response_json TEXT NOT NULL
);
-- The retention sweep deletes by expiry.
CREATE INDEX stored_responses_expiry ON stored_responses (expires_at_us);

-- One row per input or output item, so that an item_reference finds its
-- item through an index instead of scanning every response's JSON.
CREATE TABLE stored_response_items (
  response_id TEXT NOT NULL REFERENCES stored_responses (response_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,         -- order within the response: inputs first, then outputs
  is_output INTEGER NOT NULL,        -- 0: input item, 1: output item
  item_id TEXT NOT NULL,
  item_json TEXT NOT NULL,
  PRIMARY KEY (response_id, position)
);
CREATE INDEX stored_response_items_item ON stored_response_items (item_id);
