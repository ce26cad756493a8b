// A fast webhook receiver for bench/run --webhooks: answers every POST 204 at once and notes,
// for each delivery, when it arrived (process.hrtime.bigint(), which is CLOCK_MONOTONIC on
// Linux: the writer's clock), the path, its webhook-id and the student's name. `GET /count`
// answers how many have arrived. Prints `ready <port>` once listening; on SIGTERM, one JSON
// line: {"deliveries": [[ns, path, id, name], ...]}.
import { createServer } from 'node:http';

const deliveries = [];
const server = createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end(String(deliveries.length));
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const at = process.hrtime.bigint();
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      deliveries.push([at.toString(), request.url, request.headers['webhook-id'], body.student?.name ?? null]);
    } catch {
      deliveries.push([at.toString(), request.url, request.headers['webhook-id'], null]);
    }
    response.writeHead(204);
    response.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`ready ${server.address().port}`);
});
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ deliveries })}\n`, () => process.exit(0));
});
