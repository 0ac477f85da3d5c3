// The golden-state test (llm.c style): the engine against PyTorch autograd on
// the tiny Qwen3 fixture. Prints each tensor's error against its tolerance.
import { describe, expect, it } from 'vitest';
import { openSafetensors } from '../src/io/safetensors.js';
import { computeDebugState, readDebugCase, type DebugState } from '../src/train/debug-state.js';
import { relErr, runtime } from './util.js';

import { readdirSync } from 'node:fs';

// Every folder of the golden format: the shared PyTorch fixture and the variants
// made by tools/make-fixture.py (untied head, bf16 weights, other head_dim, T = 37, B = 3).
const FIXTURES = readdirSync('test/fixtures').filter((d) => d.startsWith('qwen3-')).map((d) => `test/fixtures/${d}`);

// Tolerances stated by the fixture's README for a correct float32 engine.
function toleranceOf(name: string): number {
  if (name.includes('.grad.')) return 1e-3;
  if (name === 'adamw_losses') return 1e-3;
  return 1e-4; // logits, logprobs, losses
}

export async function compareWithReference(state: DebugState, refPath: string): Promise<{ name: string; err: number; tol: number }[]> {
  const ref = await openSafetensors(refPath);
  const rows: { name: string; err: number; tol: number }[] = [];
  try {
    for (const info of ref.tensors) {
      const name = info.name;
      if (!['logits', 'logprobs', 'sft_loss', 'grpo_loss', 'adamw_losses'].includes(name) && !name.includes('.grad.')) continue;
      const mine = state.get(name);
      if (!mine) throw new Error(`engine produced no '${name}'`);
      expect(mine.shape).toEqual(info.shape);
      rows.push({ name, err: relErr(mine.data, await ref.readF32(name)), tol: toleranceOf(name) });
    }
  } finally {
    await ref.close();
  }
  return rows;
}

describe('golden state vs PyTorch', () => {
  it('finds the fixtures', () => expect(FIXTURES.length).toBeGreaterThanOrEqual(3));
  for (const fixture of FIXTURES) {
    it(`${fixture}: logits, log-probs, losses, every gradient and AdamW losses are within tolerance`, async () => {
      const rt = await runtime();
      const c = await readDebugCase(`${fixture}/case.safetensors`);
      const state = await computeDebugState(rt, `${fixture}/model`, c);
      const rows = await compareWithReference(state, `${fixture}/case.safetensors`);
      const lines = rows.map((r) => `${r.err <= r.tol ? 'OK ' : 'BAD'} ${r.name.padEnd(52)} rel err ${r.err.toExponential(2)}  (tol ${r.tol.toExponential(0)})`);
      process.stdout.write(`${fixture}\n${lines.join('\n')}\n`);
      // KV-cache decode reproduces the full forward's logits (prefill half, then one token at a time).
      const decodeErr = relErr(state.get('decode_logits')!.data, state.get('logits')!.data);
      const ref = await openSafetensors(`${fixture}/case.safetensors`);
      const decodeVsRef = relErr(state.get('decode_logits')!.data, await ref.readF32('logits'));
      await ref.close();
      process.stdout.write(`${decodeVsRef <= 1e-4 ? 'OK ' : 'BAD'} ${'decode_logits (vs reference logits)'.padEnd(52)} rel err ${decodeVsRef.toExponential(2)}  (tol 1e-4)\n`);
      expect(decodeVsRef).toBeLessThanOrEqual(1e-4);
      expect(decodeErr).toBeLessThanOrEqual(1e-4);
      const nWeights = [...state.keys()].filter((k) => k.startsWith('sft.grad.')).length;
      expect(nWeights).toBeGreaterThan(0);
      expect(rows.length).toBe(5 + 2 * nWeights); // every gradient of the reference was compared
      for (const r of rows) expect(r.err, r.name).toBeLessThanOrEqual(r.tol);
    });
  }
});
