// Reference ai service: consumes voyage.booked (Kafka consumer group) and counts what it receives.
'use strict';

const kit = require('./lib/kit');

const SERVICE = 'ai';
const TOPIC = 'voyage.booked';
const kafka = kit.kafkaFromEnv(`reference-${SERVICE}`);
let consumer = null;
let joined = false;
let last = null;

const service = kit.createService({
  name: SERVICE,
  prefix: '/api/v1/ai',
  checks: kafka ? {
    kafka: async () => {
      if (!consumer) {
        consumer = kafka.consumer({ groupId: `reference-${SERVICE}` });
        consumer.on(consumer.events.GROUP_JOIN, () => { joined = true; });
        consumer.on(consumer.events.CRASH, () => { joined = false; consumer = null; });
        await consumer.connect();
        await consumer.subscribe({ topics: [TOPIC] });
        await consumer.run({
          eachMessage: async ({ message }) => {
            last = message.value ? message.value.toString() : null;
            service.metrics.inc('dreamscape_messages_consumed_total', { topic: TOPIC }, 'Kafka messages consumed.');
          },
        });
      }
      for (let waited = 0; !joined && waited < 10000; waited += 250) {
        await new Promise((resolve) => { setTimeout(resolve, 250); });
      }
      if (!joined) throw new Error(`consumer group reference-${SERVICE} has not joined yet`);
      return `consuming ${TOPIC}`;
    },
  } : {},
  routes: {
    '/api/v1/ai/last': async (req, res, { send }) => send(res, 200, { topic: TOPIC, last }),
  },
});
service.start();
