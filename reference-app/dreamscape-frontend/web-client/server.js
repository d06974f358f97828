// Reference web client: one page that calls every API route through the edge, and a `/ws` proxy to the
// WebSocket gateway of the same pod (as a Vite `server.proxy` entry with `ws: true` would), so the
// browser reaches the gateway through the app's own edge route.
// The catalog starts it like Vite (`npm run dev -- --host 0.0.0.0 --port 3000 --strictPort`); it reads
// PORT and HOST from the environment and ignores those arguments.
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const kit = require('./lib/kit');

const gateway = new URL(process.env.GATEWAY_URL || 'http://127.0.0.1:4000');
const page = () => fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8')
  .replace('__API_URL__', JSON.stringify(process.env.API_URL || ''));

const service = kit.createService({
  name: 'web',
  routes: {
    '/': async (req, res, { send }) => send(res, 200, page(), 'text/html; charset=utf-8'),
  },
});

service.server.on('upgrade', (req, socket, head) => {
  if (new URL(req.url, 'http://localhost').pathname !== '/ws') {
    socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    return;
  }
  const upstream = net.connect(Number(gateway.port || 80), gateway.hostname, () => {
    const headers = Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n');
    upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${headers}\r\n\r\n`);
    upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', () => socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  socket.on('error', () => upstream.destroy());
});
service.start();
