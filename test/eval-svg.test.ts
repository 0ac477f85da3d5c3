// The evaluation report's charts: a gridline's label is the value the gridline stands at.
import { describe, expect, it } from 'vitest';
import { lineChart } from '../src/eval/svg.js';

describe('evaluation charts', () => {
  it("labels each of the voting chart's gridlines with the value it stands at", () => {
    const svg = lineChart({ title: 'voting@k', xLabel: 'k', x: [1, 4, 8], series: [{ name: 'ours', values: [50, 51, 52] }] });
    const grid = [...svg.matchAll(/<line x1="\d+" y1="([\d.]+)"[^>]*stroke="#ddd"\/><text[^>]*>([^<]+)<\/text>/g)].map((m) => ({ y: Number(m[1]), label: m[2]! }));
    // The axis spans 48..54, so its six gridlines stand 1.2 points apart.
    expect(grid.map((g) => g.label)).toEqual(['48.0', '49.2', '50.4', '51.6', '52.8', '54.0']);
    // Each data point sits where its value's gridline would: 51 lies between the '50.4' and '51.6' lines.
    const dot = (value: number) => Number(new RegExp(`<circle cx="[\\d.]+" cy="([\\d.]+)"[^>]*><title>ours, k=\\d+: ${value}\\.0</title>`).exec(svg)![1]);
    const yOf = (label: string) => grid.find((g) => g.label === label)!.y;
    expect(dot(51)).toBeLessThan(yOf('50.4'));
    expect(dot(51)).toBeGreaterThan(yOf('51.6'));
    expect(dot(52)).toBeCloseTo(yOf('51.6') + ((yOf('52.8') - yOf('51.6')) * (52 - 51.6)) / 1.2, 1);
  });
});
