// Copied from reference-app/common/kit.js by `python -m components.pods.render`. Do not edit.
// The reference application's shared kit: HTTP server, /health, /metrics (Prometheus text format),
// secrets from *_FILE, and tiny clients for the infrastructure each service touches.
//
// Source of truth: reference-app/common/kit.js. `make render` copies it to <service>/lib/kit.js, because
// every service directory is built on its own (its own build context, its own package.json).
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const tls = require('node:tls');

const startedAt = Date.now() / 1000;

// --- configuration -------------------------------------------------------------------------------

/** A secret from `<NAME>_FILE` (how the platform delivers it) or, for local runs, `<NAME>`. */
function secret(name) {
  const file = process.env[`${name}_FILE`];
  if (file) return fs.readFileSync(file, 'utf8').trim();
  return process.env[name];
}

// --- metrics -------------------------------------------------------------------------------------

// Prometheus' default histogram buckets (client_golang DefBuckets), in seconds.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Metrics {
  constructor(service) {
    this.service = service;
    this.counters = new Map(); // "name{labels}" -> value
    this.gauges = new Map();
    this.histograms = new Map(); // name -> Map(labels key -> { labels, counts, sum, count })
    this.help = new Map();
    this.collectors = []; // called before each render, to set gauges computed on demand
  }

  onRender(collect) {
    this.collectors.push(collect);
  }

  static key(name, labels) {
    const body = Object.entries(labels || {})
      .map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
    return body ? `${name}{${body}}` : name;
  }

  inc(name, labels, help, by = 1) {
    this.help.set(name, ['counter', help]);
    const key = Metrics.key(name, labels);
    this.counters.set(key, (this.counters.get(key) || 0) + by);
  }

  set(name, labels, help, value) {
    this.help.set(name, ['gauge', help]);
    this.gauges.set(Metrics.key(name, labels), value);
  }

  observe(name, labels, help, value, buckets = DURATION_BUCKETS) {
    this.help.set(name, ['histogram', help]);
    if (!this.histograms.has(name)) this.histograms.set(name, new Map());
    const series = this.histograms.get(name);
    const key = Metrics.key('', labels);
    if (!series.has(key)) series.set(key, { labels, buckets, counts: buckets.map(() => 0), sum: 0, count: 0 });
    const entry = series.get(key);
    entry.buckets.forEach((le, i) => { if (value <= le) entry.counts[i] += 1; });
    entry.sum += value;
    entry.count += 1;
  }

  renderHistogram(name, lines) {
    for (const { labels, buckets, counts, sum, count } of (this.histograms.get(name) || new Map()).values()) {
      buckets.forEach((le, i) => lines.push(`${Metrics.key(`${name}_bucket`, { ...labels, le })} ${counts[i]}`));
      lines.push(`${Metrics.key(`${name}_bucket`, { ...labels, le: '+Inf' })} ${count}`);
      lines.push(`${Metrics.key(`${name}_sum`, labels)} ${sum}`, `${Metrics.key(`${name}_count`, labels)} ${count}`);
    }
  }

  render() {
    for (const collect of this.collectors) collect();
    const mem = process.memoryUsage();
    this.set('process_start_time_seconds', {}, 'Start time of the process since unix epoch in seconds.', startedAt);
    this.set('process_resident_memory_bytes', {}, 'Resident memory size in bytes.', mem.rss);
    this.set('nodejs_heap_size_used_bytes', {}, 'Process heap size used from Node.js in bytes.', mem.heapUsed);
    this.set('nodejs_heap_size_total_bytes', {}, 'Process heap size from Node.js in bytes.', mem.heapTotal);
    this.set('dreamscape_service_info', { service: this.service, node: process.version }, 'The service and its runtime.', 1);
    const lines = [];
    for (const [name, [type, help]] of [...this.help.entries()].sort()) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      if (type === 'histogram') {
        this.renderHistogram(name, lines);
        continue;
      }
      const source = type === 'counter' ? this.counters : this.gauges;
      for (const [key, value] of source) {
        if (key === name || key.startsWith(`${name}{`)) lines.push(`${key} ${value}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

// --- error tracking (a Sentry-compatible DSN, SENTRY_DSN_FILE) ------------------------------------

/** `https://<public key>@<host>[/<path>]/<project id>` -> where and how to send events, or null. */
function parseDsn(dsn) {
  if (!dsn) return null;
  const url = new URL(dsn);
  const parts = url.pathname.split('/').filter(Boolean);
  const project = parts.pop();
  if (!url.username || !project) throw new Error('SENTRY_DSN must look like https://<key>@<host>/<project>');
  const prefix = parts.length ? `/${parts.join('/')}` : '';
  return {
    dsn,
    key: decodeURIComponent(url.username),
    endpoint: `${url.protocol}//${url.host}${prefix}/api/${project}/envelope/`,
  };
}

/**
 * Reports unhandled errors as Sentry events (the envelope endpoint every Sentry-compatible receiver
 * accepts) when the service has a DSN; otherwise does nothing. Never throws: error tracking must not
 * turn one failure into two.
 */
function errorTracker(service, dsnText = secret('SENTRY_DSN')) {
  const target = parseDsn(dsnText);
  return function report(error, request) {
    if (!target) return Promise.resolve(false);
    const eventId = crypto.randomUUID().replace(/-/g, '');
    const event = {
      event_id: eventId,
      timestamp: Date.now() / 1000,
      platform: 'node',
      level: 'error',
      server_name: require('node:os').hostname(),
      environment: process.env.DREAMSCAPE_ENVIRONMENT || undefined,
      tags: { service },
      exception: { values: [{ type: (error && error.name) || 'Error', value: String((error && error.message) || error),
        stacktrace: error && error.stack ? { frames: error.stack.split('\n').slice(1).reverse().map((line) => ({ function: line.trim() })) } : undefined }] },
      request: request ? { method: request.method, url: request.url } : undefined,
    };
    const body = [JSON.stringify({ event_id: eventId, sent_at: new Date().toISOString(), dsn: target.dsn }),
      JSON.stringify({ type: 'event' }), JSON.stringify(event)].join('\n') + '\n';
    const client = target.endpoint.startsWith('https:') ? require('node:https') : http;
    return new Promise((resolve) => {
      const req = client.request(target.endpoint, {
        method: 'POST',
        timeout: 3000,
        headers: {
          'content-type': 'application/x-sentry-envelope',
          'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${target.key}, sentry_client=dreamscape-reference/1.0`,
        },
      }, (response) => { response.resume(); resolve(response.statusCode < 300); });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(false));
      req.end(body);
    });
  };
}

// --- Redis (RESP2, AUTH, MOVED redirects for Redis Cluster) ----------------------------------------

function encodeCommand(args) {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;
}

/** Parse one RESP reply from `buf` at `pos`; returns [value, next] or null when incomplete. */
function parseReply(buf, pos = 0) {
  const end = buf.indexOf('\r\n', pos);
  if (end < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, end);
  if (type === '+') return [line, end + 2];
  if (type === '-') return [new Error(line), end + 2];
  if (type === ':') return [Number(line), end + 2];
  if (type === '$') {
    const len = Number(line);
    if (len < 0) return [null, end + 2];
    if (buf.length < end + 2 + len + 2) return null;
    return [buf.toString('utf8', end + 2, end + 2 + len), end + 2 + len + 2];
  }
  if (type === '*') {
    const count = Number(line);
    const items = [];
    let next = end + 2;
    for (let i = 0; i < count; i += 1) {
      const item = parseReply(buf, next);
      if (!item) return null;
      items.push(item[0]);
      next = item[1];
    }
    return [items, next];
  }
  throw new Error(`unexpected RESP type ${type}`);
}

/** Run `commands` on one connection (AUTH first when a password is set); resolves with the replies.
 * With `ca` (PEM text) the connection is TLS, and the server must present a certificate from that CA for
 * `host` (Node checks the chain and the name; docs/application-contract.md, "Encryption in transit"). */
function redisCommands(host, port, password, commands, timeoutMs = 3000, ca = null) {
  return new Promise((resolve, reject) => {
    const all = password ? [['AUTH', password], ...commands] : commands;
    const socket = ca
      ? tls.connect({ host, port: Number(port), ca, servername: net.isIP(host) ? undefined : host })
      : net.createConnection({ host, port: Number(port) });
    let buf = Buffer.alloc(0);
    const replies = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`redis ${host}:${port} timed out`)));
    socket.on(ca ? 'secureConnect' : 'connect', () => socket.write(all.map(encodeCommand).join('')));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let parsed;
      while ((parsed = parseReply(buf)) !== null) {
        replies.push(parsed[0]);
        buf = buf.subarray(parsed[1]);
      }
      if (replies.length === all.length) {
        socket.end();
        resolve(password ? replies.slice(1) : replies);
      }
    });
    socket.on('error', reject);
  });
}

/** The CA to verify a server with, from the file the variable names (`REDIS_TLS_CA`): null when the platform runs plaintext.
 * Read on each connection, so a renewed CA file is picked up without a restart. */
function trustedCa(variable) {
  const file = process.env[variable];
  return file ? fs.readFileSync(file, 'utf8') : null;
}

/** A Redis client from REDIS_HOST / REDIS_PORT / REDIS_PASSWORD_FILE (TLS with REDIS_TLS=true and the CA in
 * REDIS_TLS_CA); follows one MOVED in cluster mode. */
function redisFromEnv() {
  if (!process.env.REDIS_HOST) return null;
  const password = secret('REDIS_PASSWORD');
  const useTls = process.env.REDIS_TLS === 'true';
  if (useTls && !process.env.REDIS_TLS_CA) throw new Error('REDIS_TLS=true needs REDIS_TLS_CA, the CA file');
  const run = async (host, port, commands, hops = 0) => {
    const ca = useTls ? trustedCa('REDIS_TLS_CA') : null;
    const replies = await redisCommands(host, port, password, commands, 3000, ca);
    for (const reply of replies) {
      if (reply instanceof Error) {
        const moved = /^(MOVED|ASK) \d+ (.+):(\d+)$/.exec(reply.message);
        if (moved && hops < 3) return run(moved[2], moved[3], commands, hops + 1);
        throw reply;
      }
    }
    return replies;
  };
  return { command: (...commands) => run(process.env.REDIS_HOST, process.env.REDIS_PORT || 6379, commands) };
}

// --- Postgres, Kafka (pure-JS npm packages, loaded only when configured) ----------------------------

/** node-postgres' `ssl` for DATABASE_SSL_MODE: `verify-full` checks the chain against
 * DATABASE_SSL_ROOT_CERT and the name against DATABASE_HOST (libpq's meaning); `disable` is plaintext. */
function postgresSsl() {
  const mode = process.env.DATABASE_SSL_MODE || 'disable';
  if (mode === 'disable') return false;
  if (mode !== 'verify-full') throw new Error(`DATABASE_SSL_MODE ${mode}: expected verify-full or disable`);
  const ca = trustedCa('DATABASE_SSL_ROOT_CERT');
  if (!ca) throw new Error('DATABASE_SSL_MODE=verify-full needs DATABASE_SSL_ROOT_CERT, the CA file');
  return { ca, rejectUnauthorized: true };
}

function postgresFromEnv() {
  if (!process.env.DATABASE_HOST) return null;
  const { Pool } = require('pg'); // eslint-disable-line global-require
  return new Pool({
    ssl: postgresSsl(),
    host: process.env.DATABASE_HOST,
    port: Number(process.env.DATABASE_PORT || 5432),
    database: process.env.DATABASE_NAME,
    user: process.env.DATABASE_USER,
    password: secret('DATABASE_PASSWORD'),
    max: 2,
    connectionTimeoutMillis: 3000,
  });
}

// --- migrations and seed data (`npm run migrate`, `npm run seed`: docs/application-contract.md) --------

/** Connect, retrying while the server starts or the role does not exist yet (the bootstrap creates it). */
async function connectForSetup(service, attempts = 30) {
  const db = postgresFromEnv();
  if (!db) throw new Error(`${service}: DATABASE_HOST is not set, so there is no database to set up`);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { db, client: await db.connect() };
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => { setTimeout(resolve, 2000); });
    }
  }
}

/**
 * Apply `steps` ([{version, sql}], versions ascending) that this service has not applied yet, each in its
 * own transaction, and record them in `schema_migrations`. An advisory lock keeps two runs from racing.
 * A failure is printed with the service and version, and the process exits non-zero: the platform stops
 * the rollout on it.
 */
async function runSetup(service, kind, work) {
  let db = null;
  let client = null;
  try {
    ({ db, client } = await connectForSetup(service));
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`dreamscape:${service}`]);
    await work(client);
  } catch (error) {
    console.error(`${service}: ${kind} failed: ${error.message}`);
    process.exitCode = 1;
  } finally {
    if (client) client.release();
    if (db) await db.end();
  }
}

function migrate(service, steps) {
  return runSetup(service, 'migration', async (client) => {
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      service text NOT NULL, version integer NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (service, version))`);
    const { rows } = await client.query('SELECT version FROM schema_migrations WHERE service = $1', [service]);
    const applied = new Set(rows.map((row) => row.version));
    for (const step of steps) {
      if (applied.has(step.version)) continue;
      try {
        await client.query('BEGIN');
        await client.query(step.sql);
        await client.query('INSERT INTO schema_migrations (service, version) VALUES ($1, $2)', [service, step.version]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`version ${step.version}: ${error.message}`);
      }
      console.log(`${service}: applied migration ${step.version}`);
    }
    console.log(`${service}: schema at version ${Math.max(0, ...steps.map((step) => step.version))}`);
  });
}

/** Run `work(client)` once the schema exists: seed data must be idempotent (upserts). */
function seed(service, work) {
  return runSetup(service, 'seed', work);
}

/** scrypt password hash, `scrypt$<salt>$<hash>` (hex), for test accounts. */
function hashPassword(password) {
  const salt = crypto.randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${crypto.scryptSync(password, salt, 32).toString('hex')}`;
}

function verifyPassword(password, stored) {
  const [scheme, salt, hash] = String(stored).split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'hex');
  const actual = crypto.scryptSync(password, Buffer.from(salt, 'hex'), expected.length);
  return crypto.timingSafeEqual(actual, expected);
}

// --- tokens (HS256 JWT with the platform's access key, JWT_ACCESS_SECRET_FILE) --------------------------

function base64url(data) {
  return Buffer.from(data).toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
}

/** A signed access token for `subject` (only services with the key, auth and user, can sign). */
function signToken(claims, key, ttlSeconds = 900) {
  const now = Math.floor(Date.now() / 1000);
  const head = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify({ ...claims, iat: now, exp: now + ttlSeconds }));
  const signature = base64url(crypto.createHmac('sha256', key).update(`${head}.${body}`).digest());
  return `${head}.${body}.${signature}`;
}

/** The token's claims when its signature and expiry hold, else null. */
function verifyToken(token, key) {
  const parts = String(token || '').split('.');
  if (parts.length !== 3 || !key) return null;
  const expected = Buffer.from(base64url(crypto.createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest()));
  const actual = Buffer.from(parts[2]);
  if (expected.length !== actual.length || !crypto.timingSafeEqual(expected, actual)) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
    if (header.alg !== 'HS256' || typeof claims.sub !== 'string') return null;
    if (typeof claims.exp !== 'number' || claims.exp < Date.now() / 1000) return null;
    return claims;
  } catch {
    return null;
  }
}

/** The bearer token of a request: `Authorization: Bearer ...`, or `access_token` in the (original) URI. */
function bearerToken(req) {
  const header = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization || '');
  if (header) return header[1];
  const uri = req.headers['x-original-uri'] || req.url;
  return new URL(uri, 'http://localhost').searchParams.get('access_token');
}

/** A client's mistake: answered with its own status (400, 413), never as the service's 500. */
class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function readJson(req, limit = 65536) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, 'request body too large');
    chunks.push(chunk);
  }
  if (!chunks.length) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString());
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
}

function kafkaFromEnv(clientId) {
  if (!process.env.KAFKA_BROKERS) return null;
  const { Kafka, logLevel } = require('kafkajs'); // eslint-disable-line global-require
  return new Kafka({
    clientId,
    brokers: process.env.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean),
    logLevel: logLevel.WARN,
    retry: { retries: 3 },
  });
}

// --- MinIO (S3 API, Signature V4, no SDK) -----------------------------------------------------------

function hmac(key, text) {
  return crypto.createHmac('sha256', key).update(text).digest();
}

function sha256(data) {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** A signed S3 request; resolves with { status, body }. */
function s3Request({ endpoint, accessKey, secretKey, method, path, body = '', region = 'us-east-1' }) {
  const url = new URL(path, endpoint);
  const now = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '');
  const date = now.slice(0, 8);
  const payloadHash = sha256(body);
  const headers = { host: url.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': now };
  const signed = Object.keys(headers).sort();
  const canonical = [
    method,
    url.pathname.split('/').map(encodeURIComponent).join('/'),
    '',
    ...signed.map((h) => `${h}:${headers[h]}`),
    '',
    signed.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', now, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date), region), 's3'), 'aws4_request');
  const signature = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  headers['content-length'] = Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    // https (prod, review): verify MinIO's certificate against the environment's CA (MINIO_CA_FILE) and
    // the host name; never fall back to an unverified connection.
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') throw new Error(`MINIO_ENDPOINT: unsupported scheme ${url.protocol}`);
    const ca = secure ? trustedCa('MINIO_CA_FILE') : null;
    const options = { method, headers, timeout: 3000, ...(ca ? { ca } : {}) };
    const request = (secure ? require('node:https') : http).request(url, options, (response) => {
      const chunks = [];
      response.on('data', (c) => chunks.push(c));
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${url} timed out`)));
    request.on('error', reject);
    request.end(body);
  });
}

function minioFromEnv() {
  if (!process.env.MINIO_ENDPOINT) return null;
  const settings = {
    endpoint: process.env.MINIO_ENDPOINT,
    accessKey: secret('MINIO_ACCESS_KEY'),
    secretKey: secret('MINIO_SECRET_KEY'),
  };
  const bucket = process.env.MINIO_BUCKET;
  const call = async (method, object, body) => {
    const reply = await s3Request({ ...settings, method, path: `/${bucket}/${object}`, body });
    if (reply.status >= 300) throw new Error(`${method} ${bucket}/${object}: HTTP ${reply.status}`);
    return reply.body;
  };
  return { put: (object, body) => call('PUT', object, body), get: (object) => call('GET', object) };
}

// --- the service ----------------------------------------------------------------------------------

/**
 * One reference service. `checks` maps a dependency name to an async function that touches it for
 * real; a check whose client is not configured (no env var) is not registered at all.
 */
/** Answer a WebSocket handshake by hand with one text message, then close (RFC 6455, no dependency). */
function answerUpgrade(req, socket, message) {
  const key = req.headers['sec-websocket-key'];
  if (!key || String(req.headers.upgrade).toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    return;
  }
  const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const payload = Buffer.from(message);
  const header = payload.length < 126
    ? Buffer.from([0x81, payload.length])
    : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
  socket.end(Buffer.concat([header, payload, Buffer.from([0x88, 0])]));
}

function createService({ name, prefix, checks = {}, routes = {}, intervalMs = 15000, events = true }) {
  const metrics = new Metrics(name);
  const reportError = errorTracker(name);
  const state = {}; // dependency -> { ok, detail, at }
  let running = false;

  async function runChecks() {
    if (running) return;
    running = true;
    await Promise.all(Object.entries(checks).map(async ([dependency, check]) => {
      try {
        const detail = await check();
        state[dependency] = { ok: true, detail: detail ?? 'ok', at: new Date().toISOString() };
      } catch (error) {
        state[dependency] = { ok: false, detail: String(error && error.message ? error.message : error), at: new Date().toISOString() };
      }
      metrics.set('dreamscape_dependency_up', { dependency }, 'Whether the last check of a dependency succeeded.', state[dependency].ok ? 1 : 0);
    }));
    running = false;
  }

  function health() {
    const names = Object.keys(checks);
    const pending = names.filter((n) => !state[n]);
    const failing = names.filter((n) => state[n] && !state[n].ok);
    const status = failing.length ? 'failing' : pending.length ? 'starting' : 'ok';
    return { status, service: name, pid: process.pid, dependencies: state };
  }

  function send(res, status, body, type = 'application/json') {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': type,
      'access-control-allow-origin': '*',
      'cache-control': 'no-store',
    });
    res.end(text);
  }

  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url, 'http://localhost').pathname;
    const started = process.hrtime.bigint();
    // `route` is the route the request matched (the handler's key, never the raw path), so a scan of
    // random paths adds no series: everything unmatched is `route="unmatched"`.
    let route = 'unmatched';
    res.on('finish', () => {
      metrics.inc('http_requests_total', { method: req.method, code: res.statusCode }, 'HTTP requests served.');
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe('http_request_duration_seconds', { route, method: req.method, status: res.statusCode },
        'HTTP request duration in seconds, by matched route, method and status.', seconds);
    });
    try {
      if (path === '/health') {
        route = '/health';
        const body = health();
        return send(res, body.status === 'ok' ? 200 : 503, body);
      }
      if (path === '/metrics') {
        route = '/metrics';
        return send(res, 200, metrics.render(), 'text/plain; version=0.0.4');
      }
      for (const [candidate, handler] of Object.entries(routes)) {
        const matches = candidate === '/' ? path === '/' : path === candidate || path.startsWith(`${candidate}/`);
        if (matches) {
          route = candidate;
          return await handler(req, res, { send, path, health });
        }
      }
      // The prefix itself answers the service's health (the gateway's route check); anything else
      // under it is a dead route, and says so with 404.
      if (prefix && (path === prefix || path === `${prefix}/`)) {
        route = prefix;
        return send(res, 200, health());
      }
      return send(res, 404, { error: 'not found', path });
    } catch (error) {
      if (error instanceof HttpError) return send(res, error.status, { error: error.message });
      reportError(error, req);
      return send(res, 500, { error: String(error) });
    }
  });

  // `<prefix>/events`: a WebSocket that sends the service's health once (proves upgrades pass the edge).
  if (events && prefix) {
    server.on('upgrade', (req, socket) => {
      const path = new URL(req.url, 'http://localhost').pathname;
      if (path !== `${prefix}/events`) {
        socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
        return;
      }
      metrics.inc('http_requests_total', { method: req.method, code: 101 }, 'HTTP requests served.');
      answerUpgrade(req, socket, JSON.stringify(health()));
    });
  }

  function start() {
    const port = Number(process.env.PORT);
    if (!port) throw new Error('PORT is not set: the platform gives every service its port in PORT');
    server.listen(port, process.env.HOST || '0.0.0.0', () => {
      console.log(`${name}: listening on ${process.env.HOST || '0.0.0.0'}:${port} (pid ${process.pid}), dependencies: ${Object.keys(checks).join(', ') || 'none'}`);
    });
    // Check again soon while something is failing or pending (a broker still starting), then every
    // `intervalMs`: the pod turns healthy as soon as its dependencies are.
    const loop = async () => {
      await runChecks();
      const settled = health().status === 'ok';
      setTimeout(loop, settled ? intervalMs : Math.min(2000, intervalMs)).unref();
    };
    loop();
    const stop = () => server.close(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    // An error nothing caught still ends the process (supervisord restarts it), after it is reported.
    const crash = (error) => {
      console.error(`${name}: unhandled error: ${error && error.stack ? error.stack : error}`);
      reportError(error).finally(() => process.exit(1));
    };
    process.once('uncaughtException', crash);
    process.once('unhandledRejection', crash);
    return server;
  }

  return { server, metrics, start, runChecks, health };
}

module.exports = {
  secret, Metrics, createService, errorTracker, answerUpgrade, redisFromEnv, redisCommands, parseReply, postgresFromEnv, postgresSsl, kafkaFromEnv,
  minioFromEnv, s3Request, migrate, seed, hashPassword, verifyPassword, signToken, verifyToken, bearerToken,
  readJson,
  HttpError,
};
