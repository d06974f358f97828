// Reference payment service: Postgres (app user) and Kafka publish (payment.processed).
'use strict';

const kit = require('./lib/kit');

const SERVICE = 'payment';
const TOPIC = 'payment.processed';
const db = kit.postgresFromEnv();
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
    const { rows } = await db.query('SELECT current_user AS "user", now() AS at');
    return `${rows[0].user} at ${rows[0].at.toISOString()}`;
  };
}
if (kafka) {
  checks.kafka = async () => {
    await publish({ kind: 'reference-check', at: new Date().toISOString() });
    return `published to ${TOPIC}`;
  };
}

kit.createService({ name: SERVICE, prefix: '/api/v1/payments', checks }).start();
