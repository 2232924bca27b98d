// The load process: autocannon against one URL at a fixed concurrency; prints a JSON summary.
import autocannon from 'autocannon';

const { URL: target, CONNECTIONS = '16', DURATION = '10', BODY, AUTH } = process.env;
const result = await autocannon({
  url: target,
  method: 'POST',
  connections: Number(CONNECTIONS),
  duration: Number(DURATION),
  headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: AUTH },
  body: BODY,
});
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    perSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    durationSeconds: result.duration,
  })}\n`,
);
