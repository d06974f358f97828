// The payment service's schema (`npm run migrate`).
'use strict';

const kit = require('./lib/kit');

kit.migrate('payment', [
  { version: 1, sql: 'CREATE TABLE payment_intents (id bigserial PRIMARY KEY, booking_id bigint NOT NULL, amount_cents bigint NOT NULL CHECK (amount_cents >= 0), currency char(3) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())' },
]);
