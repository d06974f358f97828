// Reference voyage service: Postgres, a Redis cache (when the pod reaches Redis) and Kafka publish
// (voyage.booked).
'use strict';

const kit = require('./lib/kit');

const SERVICE = 'voyage';
const TOPIC = 'voyage.booked';
const db = kit.postgresFromEnv();
const redis = kit.redisFromEnv();
const kafka = kit.kafkaFromEnv(`reference-${SERVICE}`);
let producer = null;

async function publish(value) {
  if (!producer) {
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  }
  await producer.send({ topic: TOPIC, messages: [{ key: SERVICE, value: JSON.stringify(value) }] });
}

const checks = {};
if (db) {
  checks.postgres = async () => {
    const { rows } = await db.query('SELECT current_user AS "user"');
    return `logged in as ${rows[0].user}`;
  };
}
if (redis) {
  checks.redis = async () => {
    await redis.command(['SET', 'cache:voyage:health', String(Date.now()), 'EX', '60']);
    const [value] = await redis.command(['GET', 'cache:voyage:health']);
    if (!value) throw new Error('cache entry written but not read back');
    return 'cache set and read';
  };
}
if (kafka) {
  checks.kafka = async () => {
    await publish({ kind: 'reference-check', at: new Date().toISOString() });
    return `published to ${TOPIC}`;
  };
}

kit.createService({
  name: SERVICE,
  prefix: '/api/v1/voyages',
  checks,
  routes: {
    '/api/v1/voyages/book': async (req, res, { send }) => {
      if (!kafka) return send(res, 503, { error: 'KAFKA_BROKERS is not set' });
      await publish({ kind: 'booking', at: new Date().toISOString() });
      return send(res, 202, { published: TOPIC });
    },
  },
}).start();
