// Reference WebSocket gateway: every message a client sends is broadcast to every connected client.
'use strict';

const { WebSocketServer } = require('ws');
const kit = require('./lib/kit');

const SERVICE = 'gateway';
const redis = kit.redisFromEnv();
const kafka = kit.kafkaFromEnv(`reference-${SERVICE}`);

const checks = {};
if (redis) {
  checks.redis = async () => {
    const [pong] = await redis.command(['PING']);
    return pong;
  };
}
if (kafka) {
  checks.kafka = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return `${(await admin.listTopics()).length} topics`;
    } finally {
      await admin.disconnect();
    }
  };
}

const service = kit.createService({ name: SERVICE, prefix: '/ws', checks, events: false });
const sockets = new WebSocketServer({ server: service.server });
sockets.on('connection', (socket) => {
  service.metrics.set('dreamscape_websocket_clients', {}, 'Connected WebSocket clients.', sockets.clients.size);
  socket.send(JSON.stringify({ kind: 'welcome', service: SERVICE, clients: sockets.clients.size }));
  socket.on('message', (data) => {
    service.metrics.inc('dreamscape_websocket_messages_total', {}, 'WebSocket messages broadcast.');
    for (const client of sockets.clients) {
      if (client.readyState === client.OPEN) client.send(data.toString());
    }
  });
  socket.on('close', () => {
    service.metrics.set('dreamscape_websocket_clients', {}, 'Connected WebSocket clients.', sockets.clients.size);
  });
});
service.start();
