// The user service's schema (`npm run migrate`).
'use strict';

const kit = require('./lib/kit');

kit.migrate('user', [
  { version: 1, sql: 'CREATE TABLE user_profiles (email text PRIMARY KEY, display_name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())' },
]);
