// Learning-rate schedules: linear warmup from 0, then constant, linear decay or
// cosine decay to minLr at the last step.
//
// Steps are 1-based: `step` is the number of the optimizer update about to be
// applied (1 .. totalSteps). So warmup's first update already moves the weights
// (lr / warmupSteps) instead of spending a step at lr 0, and the last update
// runs at exactly minLr.
import type { LrScheduleKind } from './config.js';

export interface LrSchedule {
  lr: number;
  minLr: number;
  schedule: LrScheduleKind;
  warmupSteps: number;
}

function check(step: number, totalSteps: number, s: LrSchedule): void {
  if (!Number.isInteger(totalSteps) || totalSteps < 1) throw new RangeError(`learningRate: totalSteps must be an integer >= 1, got ${totalSteps}`);
  if (!Number.isInteger(step) || step < 1 || step > totalSteps) {
    throw new RangeError(`learningRate: step must be an integer in 1..${totalSteps} (1-based), got ${step}`);
  }
  if (!(s.lr > 0) || !(s.minLr >= 0) || s.minLr > s.lr) throw new RangeError(`learningRate: need 0 <= minLr <= lr and lr > 0, got lr ${s.lr}, minLr ${s.minLr}`);
  if (!Number.isInteger(s.warmupSteps) || s.warmupSteps < 0) throw new RangeError(`learningRate: warmupSteps must be an integer >= 0, got ${s.warmupSteps}`);
}

export function learningRate(step: number, totalSteps: number, s: LrSchedule): number {
  check(step, totalSteps, s);
  if (step <= s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  if (s.schedule === 'constant') return s.lr;
  // Decay runs from lr right after warmup (progress 0 at step = warmupSteps) to minLr at the last step.
  const progress = (step - s.warmupSteps) / (totalSteps - s.warmupSteps);
  const fraction = s.schedule === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return s.minLr + (s.lr - s.minLr) * fraction;
}
