// Reference user service: Postgres (app user) and Redis sessions, through the platform's env and secret files.
'use strict';

const crypto = require('node:crypto');
const kit = require('./lib/kit');

const SERVICE = 'user';
const db = kit.postgresFromEnv();
const redis = kit.redisFromEnv();

async function newSession() {
  const token = crypto.randomBytes(16).toString('hex');
  await redis.command(['SET', `session:${SERVICE}:${token}`, JSON.stringify({ at: Date.now() }), 'EX', '3600']);
  return token;
}

const checks = {};
if (db) {
  checks.postgres = async () => {
    const { rows } = await db.query('SELECT current_user AS "user", current_database() AS database');
    return `${rows[0].user}@${rows[0].database}`;
  };
}
if (redis) {
  checks.redis = async () => {
    const token = await newSession();
    const [value] = await redis.command(['GET', `session:${SERVICE}:${token}`]);
    if (!value) throw new Error('session written but not read back');
    return 'session set and read';
  };
}

const service = kit.createService({
  name: SERVICE,
  prefix: '/api/v1/users',
  checks,
  routes: {
    '/api/v1/users/session': async (req, res, { send }) => {
      if (!redis) return send(res, 503, { error: 'REDIS_HOST is not set' });
      return send(res, 201, { token: await newSession() });
    },
  },
});
service.start();
