import { Agent, request } from 'node:http';

/**
 * An open-loop load generator: requests leave on a fixed schedule whether or not earlier ones have been answered,
 * and each latency is measured from the moment the request was due, so a stalled server cannot hide its stall
 * (no coordinated omission). autocannon's rate mode sends each second's quota in a burst, which measures queueing.
 */
export async function openLoop(options: {
  url: string;
  ratePerSecond: number;
  durationSeconds: number;
  headers: Record<string, string>;
  body: () => string;
}): Promise<{ latenciesMs: number[]; failures: number }> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(options.ratePerSecond * options.durationSeconds);
  const intervalMs = 1000 / options.ratePerSecond;
  const latenciesMs: number[] = [];
  let failures = 0;
  let sent = 0;
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];

  const send = (dueAt: number) =>
    new Promise<void>((resolve) => {
      const payload = options.body();
      const outgoing = request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          headers: { ...options.headers, 'content-length': Buffer.byteLength(payload) },
        },
        (response) => {
          response.resume();
          response.on('end', () => {
            if ((response.statusCode ?? 500) >= 300) failures += 1;
            latenciesMs.push(performance.now() - dueAt);
            resolve();
          });
        },
      );
      outgoing.on('error', () => {
        failures += 1;
        resolve();
      });
      outgoing.end(payload);
    });

  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - started) / intervalMs) + 1);
      while (sent < due) {
        inFlight.push(send(started + sent * intervalMs));
        sent += 1;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(0, intervalMs / 2));
    };
    tick();
  });
  await Promise.all(inFlight);
  agent.destroy();
  return { latenciesMs, failures };
}
