// Reference web client build (`npm run build`): the page as static files in dist/, which the prod image
// serves with NGINX (components/pods/render/static_web.py). A real client (Vite) writes the same shape:
// dist/index.html plus content-hashed files under dist/assets/.
// API_URL, if set at build time, is baked into the page; empty, the page derives the API host itself.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const out = path.join(__dirname, 'dist');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'assets'), { recursive: true });
const page = fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8')
  .replace('__API_URL__', JSON.stringify(process.env.API_URL || ''));
fs.writeFileSync(path.join(out, 'index.html'), page);
console.log(`built ${path.relative(process.cwd(), out) || '.'}/index.html`);
