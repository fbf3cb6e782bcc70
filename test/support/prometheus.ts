import { expect } from 'vitest';

/**
 * Parses Prometheus text exposition (0.0.4), checking its syntax on the
 * way: every sample belongs to a family with HELP and TYPE before it, and
 * labels are few and known (`le`, `quantile`: nothing names a call).
 * Keys are the sample name plus its label text, e.g. `x{quantile="0.5"}`.
 */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  const helped = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const help = /^# HELP ([a-z_:][a-z0-9_:]*) .+$/.exec(line);
    const type = /^# TYPE ([a-z_:][a-z0-9_:]*) (gauge|counter|histogram|summary)$/.exec(line);
    if (help) helped.add(help[1]!);
    else if (type) typed.add(type[1]!);
    else {
      const sample = /^([a-z_:][a-z0-9_:]*)(\{(?:le|quantile)="[^"]*"\})? (-?[0-9.e+-]+|NaN|\+Inf)$/.exec(line);
      expect(sample, `bad line: ${line}`).not.toBeNull();
      const family = sample![1]!.replace(/_(bucket|sum|count)$/, '');
      expect(typed.has(family) || typed.has(sample![1]!), `no TYPE before ${line}`).toBe(true);
      samples.set(sample![1]! + (sample![2] ?? ''), Number(sample![3]));
    }
  }
  expect([...typed].sort()).toEqual([...helped].sort());
  return samples;
}
