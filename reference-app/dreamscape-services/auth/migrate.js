// The auth service's schema (`npm run migrate`): accounts and their roles.
'use strict';

const kit = require('./lib/kit');

kit.migrate('auth', [
  {
    version: 1,
    sql: `CREATE TABLE auth_accounts (
      email text PRIMARY KEY CHECK (email = lower(email)),
      password_hash text NOT NULL,
      role text NOT NULL CHECK (role IN ('admin', 'user')),
      created_at timestamptz NOT NULL DEFAULT now())`,
  },
]);
