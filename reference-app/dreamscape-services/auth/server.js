// Reference auth service: Postgres (app user) and Redis sessions, through the platform's env and secret files.
'use strict';

const crypto = require('node:crypto');
const kit = require('./lib/kit');

const SERVICE = 'auth';
const db = kit.postgresFromEnv();
const redis = kit.redisFromEnv();
const accessKey = kit.secret('JWT_ACCESS_SECRET');

const SESSION_SECONDS = 3600;
const sessions = new Map(); // token -> expiry (ms) of the sessions this process opened for users

async function newSession({ forUser = true } = {}) {
  const token = crypto.randomBytes(16).toString('hex');
  await redis.command(['SET', `session:${SERVICE}:${token}`, JSON.stringify({ at: Date.now() }), 'EX', String(SESSION_SECONDS)]);
  if (forUser) sessions.set(token, Date.now() + SESSION_SECONDS * 1000);
  return token;
}

// The application contract's concurrency gauge (the core pod's autoscaler reads it): sessions still open.
function activeSessions() {
  const now = Date.now();
  for (const [token, expires] of sessions) if (expires <= now) sessions.delete(token);
  return sessions.size;
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
    const token = await newSession({ forUser: false });
    const [value] = await redis.command(['GET', `session:${SERVICE}:${token}`]);
    if (!value) throw new Error('session written but not read back');
    return 'session set and read';
  };
}

const service = kit.createService({
  name: SERVICE,
  prefix: '/api/v1/auth',
  checks,
  routes: {
    '/api/v1/auth/session': async (req, res, { send }) => {
      if (!redis) return send(res, 503, { error: 'REDIS_HOST is not set' });
      return send(res, 201, { token: await newSession() });
    },
    // The application contract's verify endpoint: NGINX asks it (auth_request) before every protected
    // route. 200 + X-Auth-User for a valid access token, 401 otherwise; headers only.
    '/api/v1/auth/verify': async (req, res) => {
      const claims = kit.verifyToken(kit.bearerToken(req), accessKey);
      res.writeHead(claims ? 200 : 401, claims ? { 'x-auth-user': claims.sub, 'cache-control': 'no-store' } : {});
      res.end();
    },
    // Access tokens for the accounts in auth_accounts (the seeded test accounts on dev and review).
    '/api/v1/auth/login': async (req, res, { send }) => {
      if (req.method !== 'POST') return send(res, 405, { error: 'POST {email, password}' });
      if (!db || !accessKey) return send(res, 503, { error: 'no database or no JWT access key' });
      const { email, password } = await kit.readJson(req);
      const { rows } = await db.query('SELECT password_hash, role FROM auth_accounts WHERE email = $1',
        [String(email || '').toLowerCase()]);
      if (!rows.length || !kit.verifyPassword(String(password || ''), rows[0].password_hash)) {
        return send(res, 401, { error: 'unknown account or wrong password' });
      }
      return send(res, 200, { token: kit.signToken({ sub: String(email).toLowerCase(), role: rows[0].role }, accessKey) });
    },
  },
});
service.metrics.onRender(() => service.metrics.set('dreamscape_active_sessions', {},
  'Sessions this process opened that have not expired.', activeSessions()));
service.start();
