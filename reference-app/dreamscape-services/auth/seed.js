// Test accounts for dev and review stacks (`npm run seed`, only with `dreamscape:seedData: true`), as seed
// 000 lists them. Idempotent: a second run resets their passwords and roles.
'use strict';

const kit = require('./lib/kit');

const ACCOUNTS = [
  { email: 'dev@dreamscape.ai', password: 'password123', role: 'admin' },
  { email: 'john@example.com', password: 'password123', role: 'user' },
];

kit.seed('auth', async (client) => {
  for (const account of ACCOUNTS) {
    await client.query(
      `INSERT INTO auth_accounts (email, password_hash, role) VALUES ($1, $2, $3)
       ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role`,
      [account.email, kit.hashPassword(account.password), account.role],
    );
    console.log(`auth: test account ${account.email} (${account.role})`);
  }
});
