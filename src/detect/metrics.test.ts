import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.js';

describe('metrics', () => {
  it('counts calls of tools past the first 1000 names as (other)', async () => {
    const metrics = createMetrics();
    for (let i = 0; i < 1002; i++) {
      metrics.observe(
        { event: 'tool.call', outcome: 'allow' },
        { requestId: 'r', status: 200, durationMs: 1, tool: `t${i}`, toolOutcome: 'allow' },
      );
    }
    const text = await metrics.registry.metrics();
    expect(text).toContain('rampart_tool_calls_total{tool="t999",outcome="allow"} 1');
    expect(text).toContain('rampart_tool_calls_total{tool="(other)",outcome="allow"} 2');
    expect(text).not.toContain('tool="t1000"');
  });
});
