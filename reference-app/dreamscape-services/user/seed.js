// Profiles of the test accounts (`npm run seed`, dev and review only). Idempotent.
'use strict';

const kit = require('./lib/kit');

kit.seed('user', async (client) => {
  for (const [email, name] of [['dev@dreamscape.ai', 'DreamScape Dev'], ['john@example.com', 'John Example']]) {
    await client.query(
      'INSERT INTO user_profiles (email, display_name) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING', [email, name],
    );
  }
});
