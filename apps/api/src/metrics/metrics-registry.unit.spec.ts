import { MetricsRegistry } from './metrics-registry';

describe('the metrics registry', () => {
  it('writes a counter per label set, with its help and type once', async () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter('spoc_http_requests_total', 'Requests.', ['method', 'route', 'status']);
    requests.inc(['GET', '/health', '200']);
    requests.inc(['GET', '/health', '200']);
    requests.inc(['POST', '/v1/referrals', '202']);

    expect(await registry.render()).toBe(
      '# HELP spoc_http_requests_total Requests.\n' +
        '# TYPE spoc_http_requests_total counter\n' +
        'spoc_http_requests_total{method="GET",route="/health",status="200"} 2\n' +
        'spoc_http_requests_total{method="POST",route="/v1/referrals",status="202"} 1\n',
    );
  });

  it('writes a histogram with cumulative buckets, +Inf, sum and count', async () => {
    const registry = new MetricsRegistry();
    const durations = registry.histogram('latency_seconds', 'Latency.', ['route'], [0.1, 0.01, 1]);
    for (const seconds of [0.005, 0.05, 0.05, 3]) durations.observe(['/health'], seconds);

    expect(await registry.render()).toBe(
      '# HELP latency_seconds Latency.\n' +
        '# TYPE latency_seconds histogram\n' +
        'latency_seconds_bucket{route="/health",le="0.01"} 1\n' +
        'latency_seconds_bucket{route="/health",le="0.1"} 3\n' +
        'latency_seconds_bucket{route="/health",le="1"} 3\n' +
        'latency_seconds_bucket{route="/health",le="+Inf"} 4\n' +
        'latency_seconds_sum{route="/health"} 3.105\n' +
        'latency_seconds_count{route="/health"} 4\n',
    );
  });

  it('reads gauges when scraped, and leaves out a family that has no samples', async () => {
    const registry = new MetricsRegistry();
    let head = 1;
    registry.gauge('head_position', 'Head.', async () => [{ value: head }]);
    registry.gauge('router_checkpoint', 'Absent here.', () => []);
    registry.gauge('checkpoint', 'By runner.', () => [{ labels: { runner: 'api-read-models' }, value: 7 }]);
    head = 42;

    expect(await registry.render()).toBe(
      '# HELP head_position Head.\n# TYPE head_position gauge\nhead_position 42\n' +
        '# HELP checkpoint By runner.\n# TYPE checkpoint gauge\ncheckpoint{runner="api-read-models"} 7\n',
    );
  });

  it('escapes label values and help text', async () => {
    const registry = new MetricsRegistry();
    registry.counter('odd_total', 'Back\\slash and\nnewline.', ['route']).inc(['/a"b\\c\nd']);
    const text = await registry.render();
    expect(text).toContain('# HELP odd_total Back\\\\slash and\\nnewline.\n');
    expect(text).toContain('odd_total{route="/a\\"b\\\\c\\nd"} 1\n');
  });

  it('refuses names Prometheus would not accept, and a name registered twice', () => {
    const registry = new MetricsRegistry();
    expect(() => registry.counter('spoc-requests', 'Bad.', [])).toThrow('not a metric name');
    expect(() => registry.counter('ok_total', 'Bad label.', ['le'])).toThrow('not a label name');
    registry.gauge('once', 'Once.', () => []);
    expect(() => registry.gauge('once', 'Twice.', () => [])).toThrow('registered twice');
  });
});
