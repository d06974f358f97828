// The voyage service's schema (`npm run migrate`).
'use strict';

const kit = require('./lib/kit');

kit.migrate('voyage', [
  { version: 1, sql: 'CREATE TABLE voyage_bookings (id bigserial PRIMARY KEY, email text NOT NULL, destination text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())' },
]);
