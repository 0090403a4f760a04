// As many requests for one calendar feed as CLIENTS clients can send, for attendance_bench.py.
//
//     node benchmarks/feed_load.mjs URL CLIENTS SECONDS [etag]
//
// Closed loop: each client sends its next request when the last one is answered. With
// "etag" every request carries the feed's ETag (If-None-Match), as a calendar app that
// polls does, and a current feed is answered 304 without a body.
// Prints one JSON line: requests, requests per second, errors and latency percentiles in ms.
import http from "node:http";

const [url, clientsText, secondsText, mode] = process.argv.slice(2);
const target = new URL(url);
const clients = Number(clientsText);
const seconds = Number(secondsText);

function get(headers) {
  return new Promise((resolve) => {
    const req = http.request({ host: target.hostname, port: target.port, method: "GET",
                               path: target.pathname + target.search, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, etag: res.headers.etag }));
    });
    req.on("error", () => resolve({ status: 0 }));
    req.end();
  });
}

const first = await get({});
const headers = mode === "etag" ? { "If-None-Match": first.etag } : {};
const expected = mode === "etag" ? 304 : 200;
const results = [];
const started = performance.now();
const end = started + seconds * 1000;
await Promise.all(Array.from({ length: clients }, async () => {
  while (performance.now() < end) {
    const sent = performance.now();
    const answer = await get(headers);
    results.push([performance.now() - sent, answer.status]);
  }
}));
const elapsed = (performance.now() - started) / 1000;
const ok = results.filter(([, s]) => s === expected).map(([ms]) => ms).sort((a, b) => a - b);
const pick = (share) => (ok.length ? ok[Math.min(ok.length - 1, Math.round(share * (ok.length - 1)))] : 0);
process.stdout.write(JSON.stringify({
  clients, requests: results.length, per_second: ok.length / elapsed,
  errors: results.length - ok.length, p50: pick(0.5), p95: pick(0.95), p99: pick(0.99),
}) + "\n");
