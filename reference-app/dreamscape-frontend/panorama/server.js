// Reference panorama service: puts an object into the MinIO bucket and reads it back.
'use strict';

const kit = require('./lib/kit');

const SERVICE = 'panorama';
const minio = kit.minioFromEnv();

const checks = {};
if (minio) {
  checks.minio = async () => {
    const object = `reference/${SERVICE}-check.txt`;
    const body = `checked at ${new Date().toISOString()}`;
    await minio.put(object, body);
    const read = await minio.get(object);
    if (read !== body) throw new Error(`read back ${JSON.stringify(read)} instead of what was put`);
    return `put and got ${process.env.MINIO_BUCKET}/${object}`;
  };
}

kit.createService({ name: SERVICE, prefix: '/api/v1/panorama', checks }).start();
