// Reference web client: one page that calls every API route and the WebSocket gateway through the edge.
// The catalog starts it like Vite (`npm run dev -- --host 0.0.0.0 --port 3000 --strictPort`); it reads
// PORT and HOST from the environment and ignores those arguments.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const kit = require('./lib/kit');

const page = () => fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8')
  .replace('__API_URL__', JSON.stringify(process.env.API_URL || ''));

kit.createService({
  name: 'web',
  routes: {
    '/': async (req, res, { send }) => send(res, 200, page(), 'text/html; charset=utf-8'),
  },
}).start();
