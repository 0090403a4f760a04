// A steady load of single check-ins for attendance_bench.py, from its own process.
//
//     node benchmarks/load.mjs BASE_URL PLAN.json RATE SECONDS [CLIENTS]
//
// CLIENTS clients (the plan's number by default; beyond it the plan's coordinators sign
// in again, as on a second phone). Each (a coordinator and their point) signs in on its own
// keep-alive connection, then sends one check-in after another on a fixed schedule (open
// loop: a slow answer does not delay the next request's start), as a phone does with htmx.
// Prints a JSON line once every client has signed in, then one with the requests, achieved
// rate, errors, latency percentiles in ms and its own CPU time over the requests.
// Node rather than Python so that the load itself takes little of the machine's CPU.
import http from "node:http";
import { readFileSync } from "node:fs";

const [base, planFile, rateText, secondsText] = process.argv.slice(2);
const target = new URL(base);
const plan = JSON.parse(readFileSync(planFile, "utf8"));
const rate = Number(rateText);
const seconds = Number(secondsText);
const clientCount = Number(process.argv[6] ?? plan.length);
const specs = Array.from({ length: clientCount }, (_, i) => plan[i % plan.length]);
const STATUSES = ["present", "late", "excused", "absent", "present", "present"];

function request(agent, cookie, method, path, form, headers = {}) {
  return new Promise((resolve) => {
    const body = form ? new URLSearchParams(form).toString() : null;
    const options = {
      host: target.hostname, port: target.port, method, path, agent,
      headers: { ...headers, ...(cookie.value ? { Cookie: cookie.value } : {}),
                 ...(body ? { "Content-Type": "application/x-www-form-urlencoded",
                              "Content-Length": Buffer.byteLength(body) } : {}) },
    };
    const req = http.request(options, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        for (const line of res.headers["set-cookie"] ?? []) {
          if (line.startsWith("session=")) cookie.value = line.split(";")[0];
        }
        resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.on("error", () => resolve({ status: 0, text: "" }));
    req.end(body ?? undefined); // headers and body in one packet: no delayed-ACK stall

  });
}

const tokenOf = (page) => /name="csrf_token"[^>]*value="([^"]+)"/.exec(page)[1];
const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// A small deterministic generator, so runs are repeatable.
function chooser(seed) {
  let state = seed >>> 0 || 1;
  return () => { state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
                 return (state >>> 0) / 4294967296; };
}

async function signIn(spec) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const cookie = { value: "" };
  let page = (await request(agent, cookie, "GET", "/login")).text;
  await request(agent, cookie, "POST", "/login", {
    csrf_token: tokenOf(page), email: spec.email, password: spec.password });
  page = (await request(agent, cookie, "GET", spec.sheet)).text;
  return { spec, agent, cookie, token: tokenOf(page) };
}

async function client({ spec, agent, cookie, token }, index, startAt, results) {
  const random = chooser(2654435761 * (index + 1));
  const interval = 1000 / (rate / specs.length);
  await sleep(startAt - Date.now());
  let planned = startAt + (index / specs.length) * interval; // clients evenly out of phase
  const end = startAt + seconds * 1000;
  while (planned < end) {
    await sleep(planned - Date.now());
    const person = spec.people[Math.floor(random() * spec.people.length)];
    const status = STATUSES[Math.floor(random() * STATUSES.length)];
    const sent = performance.now();
    const answer = await request(agent, cookie, "POST", spec.mark,
      { csrf_token: token, mark: `${person}:${status}` }, { "HX-Request": "true" });
    results.push([performance.now() - sent, answer.status]);
    planned += interval;
  }
  finished.push(Date.now());
  agent.destroy();
}

const results = [];
const finished = [];
const signedIn = await Promise.all(specs.map(signIn)); // every client signs in first
// The runner starts counting the server's CPU here, the sign-ins left out.
process.stdout.write(JSON.stringify({ signedIn: signedIn.length }) + "\n");
const startAt = Date.now() + 500;
const cpuBefore = process.cpuUsage();
await Promise.all(signedIn.map((session, i) => client(session, i, startAt, results)));
const cpu = process.cpuUsage(cpuBefore);
const ok = results.filter(([, s]) => s === 200).map(([ms]) => ms).sort((a, b) => a - b);
const pick = (share) => (ok.length ? ok[Math.min(ok.length - 1, Math.round(share * (ok.length - 1)))] : 0);
process.stdout.write(JSON.stringify({
  // Over the time the requests really took: behind schedule, the last ones end late.
  rate, requests: results.length,
  achieved: results.length / ((Math.max(...finished) - startAt) / 1000),
  errors: results.filter(([, s]) => s !== 200).length,
  p50: pick(0.5), p95: pick(0.95), p99: pick(0.99),
  loadCpuMs: (cpu.user + cpu.system) / 1000, // this process's CPU over the requests
}) + "\n");
