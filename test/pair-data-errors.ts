// The PairDataError a data-loading call throws, for tests that check its place and reason.
import { expect } from 'vitest';
import { PairDataError } from '../src/data/index.js';

export function errorOf(fn: () => unknown): PairDataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PairDataError);
    return err as PairDataError;
  }
  throw new Error('expected a PairDataError');
}

export async function asyncErrorOf(promise: Promise<unknown>): Promise<PairDataError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(PairDataError);
    return err as PairDataError;
  }
  throw new Error('expected a PairDataError');
}
