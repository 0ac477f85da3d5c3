// Token sampling from logits: one workgroup per row (sequence), looping over the
// vocabulary. Samples exactly from softmax(logits / T) restricted to the kept set
// (Gumbel-max trick), and returns the chosen id with its log-prob under the FULL
// softmax(logits / T) (the policy's log-prob; greedy: under softmax(logits)).
//   logits    [M, V]   read as f32 bits (rows are the first M rows of the tensor)
//   rowSeeds  u32 [M]  read: a per-sequence random stream id
//   out       u32 [M, 2] write: out[2r] = token id, out[2r + 1] = bitcast<u32>(log-prob)
// Grid: M workgroups of WG threads, 2-D when above the per-dimension limit
// (rowStride = workgroups in x).
//
// Filters, applied in this order (as Hugging Face's warpers): temperature, top-k,
// top-p on the top-k renormalised distribution, min-p. Each keeps every token
// whose logit is >= a threshold, so the kept set is {logit >= max of thresholds}
// (min-p's p_v >= minP * p_max is exp((l_v - l_max) / T) >= minP, independent
// of renormalisation). Ties at a threshold are all kept: top-k keeps every token
// equal to the k-th largest logit (possibly more than k tokens), top-p keeps every
// token equal to the logit at which the mass first reaches topP.
//
// Thresholds are found exactly by a 16-way search over the order-preserving u32
// key of the logit (orderedKey): per pass every thread measures 16 candidate keys
// for its tokens (the count, or the probability mass, of tokens with key >= candidate),
// a reduction picks the largest candidate still measuring >= goal, and the next
// pass refines the next 4 bits. Passes start at the highest bit where the search
// range [lo, hi] differs, so at most 8 passes over V. Counts are f32 sums of ones:
// exact for V < 2^24 (the host checks).
//   top-k: largest key x with count(key >= x) >= k             -> the k-th largest logit
//   top-p: largest key x with mass(key >= x) >= topP * mass(top-k set)
// Passes over the row: argmax and key range; top-k search (if on); the softmax
// normalisers; top-p search (if on); Gumbel-max over the kept tokens. Nothing is
// written besides `out`.
//
// Non-finite logits (loadLogit): +inf and -inf count as the largest and lowest
// finite values, so an infinite logit takes all the probability (shared among
// ties) and a row of -inf is sampled uniformly; -0 counts as +0. A NaN anywhere in
// a row samples nothing: the row's token is its argmax without the NaNs and its
// log-prob is NaN, which the host reports (Hugging Face raises on NaN too).
//
// Randomness: Philox4x32-10 (Salmon et al. 2011), key = (seedLo, rowSeed),
// counter = (token, step, seedHi, 0): a pure function of (seed, row stream, step,
// token), so the same seed gives the same tokens on the same adapter whatever the
// batch composition.
struct Params { V: u32, M: u32, rowStride: u32, step: u32, seedLo: u32, seedHi: u32, greedy: u32, invT: f32, topK: u32, topP: f32, minP: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<u32>; // f32 bits: NaNs are read as bits, never as floats
@group(0) @binding(2) var<storage, read> rowSeeds: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

override WG: u32 = 128u; // threads per row, a power of two <= 128 (the host uses 8 on CPU adapters)
override SEGMENTS: u32 = max(WG / 16u, 1u); // reductions first fold WG / SEGMENTS entries per segment
const SUM_BLOCK = 64u; // terms per partial sum (a thread may add up 151936 / WG terms)
const LOWEST = -0x1.fffffep+127f; // the lowest finite f32: "no candidate" in argmax reductions
const HIGHEST = 0x1.fffffep+127f;
const NAN_BITS = 0x7fc00000u;
const NONE = 0xFFFFFFFFu;
var<workgroup> redF: array<f32, WG>;
var<workgroup> redU: array<vec3<u32>, WG>;
var<workgroup> partialF: array<f32, SEGMENTS>;
var<workgroup> partialU: array<vec3<u32>, SEGMENTS>;
var<workgroup> resultU: vec3<u32>;
var<workgroup> red16: array<f32, 16u * WG>;      // [16, WG]: 8 KiB at WG = 128
var<workgroup> partial16: array<f32, 16u * SEGMENTS>;
var<workgroup> result16: mat4x4<f32>;


/** Whether f32 bits `b` are a NaN (tested on the bits: a float load may quiet or canonicalise it). */
fn isNaNBits(b: u32) -> bool {
  return (b & 0x7fffffffu) > 0x7f800000u;
}

/** Logit i as every pass uses it: infinities as the extreme finite values, -0 as +0, NaN as LOWEST (see the header). */
fn loadLogit(i: u32) -> f32 {
  return logitOfBits(logits[i]);
}

fn logitOfBits(b: u32) -> f32 {
  let magnitude = b & 0x7fffffffu;
  if (magnitude > 0x7f800000u) { return LOWEST; }
  if (magnitude == 0x7f800000u) { return select(HIGHEST, LOWEST, b != magnitude); }
  if (magnitude == 0u) { return 0.0; }
  return bitcast<f32>(b);
}

/** Monotone map f32 -> u32: a < b as floats (non-NaN) iff key(a) < key(b). */
fn orderedKey(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}

/** (l - l_max) / T, kept finite for absurd logits. */
fn scaledLogit(l: f32, lmax: f32) -> f32 {
  return max((l - lmax) * p.invT, -1.0e30);
}

// ---- workgroup reductions (called by all threads; results are workgroup-uniform) ----
// Two short stages (SEGMENTS threads fold WG / SEGMENTS entries each, then one
// thread or one thread per column folds the segments) instead of a log2(WG)-level
// tree: the same speed on GPUs, and lavapipe's compiler, which turns every
// barrier of the unrolled trees into a coroutine split, took 30-60 s per pipeline
// with trees (now 3-5 s).

/** Whether candidate (bv, bi) beats (av, ai): larger value, or equal value and lower index. */
fn beats(bv: f32, bi: u32, av: f32, ai: u32) -> bool {
  // A real token always beats "no candidate", even at -inf or NaN (a row of overflowed logits):
  // otherwise the row's argmax would be NONE and the reads past it out of bounds.
  if (bi == NONE) { return false; }
  if (ai == NONE) { return true; }
  return bv > av || (bv == av && bi < ai);
}

/**
 * Index of the largest value (lowest index on ties), plus the (min, max) of
 * the `keys` pairs: returns (index, min key, max key).
 */
fn reduceArgmax(lid: u32, val: f32, idx: u32, keys: vec2<u32>) -> vec3<u32> {
  redF[lid] = val;
  redU[lid] = vec3<u32>(idx, keys);
  workgroupBarrier();
  if (lid < SEGMENTS) {
    let len = WG / SEGMENTS;
    var bv = redF[lid * len];
    var b = redU[lid * len];
    for (var t = lid * len + 1u; t < (lid + 1u) * len; t++) {
      let u = redU[t];
      if (beats(redF[t], u.x, bv, b.x)) { bv = redF[t]; b.x = u.x; }
      b = vec3<u32>(b.x, min(b.y, u.y), max(b.z, u.z));
    }
    partialF[lid] = bv;
    partialU[lid] = b;
  }
  workgroupBarrier();
  if (lid == 0u) {
    var bv = partialF[0];
    var b = partialU[0];
    for (var g = 1u; g < SEGMENTS; g++) {
      let u = partialU[g];
      if (beats(partialF[g], u.x, bv, b.x)) { bv = partialF[g]; b.x = u.x; }
      b = vec3<u32>(b.x, min(b.y, u.y), max(b.z, u.z));
    }
    resultU = b;
  }
  let r = workgroupUniformLoad(&resultU);
  workgroupBarrier(); // all have read before the scratch is reused
  return r;
}

fn reduceSum16(lid: u32, x: mat4x4<f32>) -> mat4x4<f32> {
  for (var j = 0u; j < 16u; j++) { red16[j * WG + lid] = x[j / 4u][j % 4u]; }
  workgroupBarrier();
  // work item (column j, segment g) sums WG / SEGMENTS values of column j
  for (var w = lid; w < 16u * SEGMENTS; w += WG) {
    let j = w % 16u;
    let g = w / 16u;
    let len = WG / SEGMENTS;
    var acc = 0.0;
    for (var t = g * len; t < (g + 1u) * len; t++) { acc += red16[j * WG + t]; }
    partial16[j * SEGMENTS + g] = acc;
  }
  workgroupBarrier();
  for (var j = lid; j < 16u; j += WG) {
    var acc = 0.0;
    for (var g = 0u; g < SEGMENTS; g++) { acc += partial16[j * SEGMENTS + g]; }
    result16[j / 4u][j % 4u] = acc;
  }
  let r = workgroupUniformLoad(&result16);
  workgroupBarrier();
  return r;
}

/**
 * One pass over the row measuring 16 candidate keys at once: column q, lane j
 * of the result is the sum, over the row's tokens with key >= c[q][j], of 1
 * (mass = false: a count) or exp(scaled logit) (mass = true: unnormalised probability).
 */
fn measure(lid: u32, base: u32, c: array<vec4<u32>, 4>, mass: bool, lmax: f32) -> mat4x4<f32> {
  var total = mat4x4<f32>();
  for (var v0 = lid; v0 < p.V; v0 += WG * SUM_BLOCK) {
    var block = mat4x4<f32>();
    for (var v = v0; v < min(p.V, v0 + WG * SUM_BLOCK); v += WG) {
      let l = loadLogit(base + v);
      let k = vec4<u32>(orderedKey(l));
      var w = 1.0;
      if (mass) { w = exp(scaledLogit(l, lmax)); }
      let wv = vec4<f32>(w);
      let zero = vec4<f32>();
      block[0] += select(zero, wv, k >= c[0]);
      block[1] += select(zero, wv, k >= c[1]);
      block[2] += select(zero, wv, k >= c[2]);
      block[3] += select(zero, wv, k >= c[3]);
    }
    total += block;
  }
  return reduceSum16(lid, total);
}

// ---- threshold search ----

/**
 * Narrows `x` (the largest key found so far with measure >= goal) by one
 * nibble, the one at `shift`: measures the 16 values of that nibble (lower bits
 * zero) and keeps the largest that still reaches the goal.
 */
fn searchStep(lid: u32, base: u32, x: u32, shift: u32, mass: bool, lmax: f32, goal: f32) -> u32 {
  let below = (0xFu << shift) | ((1u << shift) - 1u); // this nibble and all lower bits
  let prefix = vec4<u32>(x & ~below);
  let sh = vec4<u32>(shift);
  let c = array<vec4<u32>, 4>(
    prefix | (vec4<u32>(0u, 1u, 2u, 3u) << sh),
    prefix | (vec4<u32>(4u, 5u, 6u, 7u) << sh),
    prefix | (vec4<u32>(8u, 9u, 10u, 11u) << sh),
    prefix | (vec4<u32>(12u, 13u, 14u, 15u) << sh),
  );
  let m = measure(lid, base, c, mass, lmax);
  // measure falls as the digit grows: keep the largest digit still reaching the goal
  var digit = 0u;
  for (var j = 1u; j < 16u; j++) {
    if (m[j / 4u][j % 4u] >= goal) { digit = j; }
  }
  return (x & ~below) | (digit << shift);
}

/**
 * The largest key x in [start, hi] with measure(x) >= goal, given measure(start)
 * >= goal (hi: the row's largest key). Starts at the nibble holding the highest
 * bit where start and hi differ (the bits above are common to every key in the
 * range) and ends after the lowest nibble: at most 8 passes.
 */
fn searchThreshold(lid: u32, base: u32, start: u32, hi: u32, mass: bool, lmax: f32, goal: f32) -> u32 {
  if (start >= hi) { return start; }
  var x = start;
  var shift = (u32(firstLeadingBit(start ^ hi)) / 4u) * 4u;
  loop {
    x = searchStep(lid, base, x, shift, mass, lmax, goal);
    if (shift == 0u) { break; }
    shift -= 4u;
  }
  return x;
}

// ---- randomness ----

/** (high, low) 32 bits of the 64-bit product a * b. */
fn mulHiLo(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xFFFFu;
  let a1 = a >> 16u;
  let b0 = b & 0xFFFFu;
  let b1 = b >> 16u;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = ((a0 * b0) >> 16u) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu);
  return vec2<u32>(a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u), a * b);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var i = 0u; i < 10u; i++) {
    let m0 = mulHiLo(0xD2511F53u, c.x);
    let m1 = mulHiLo(0xCD9E8D57u, c.z);
    c = vec4<u32>(m1.x ^ c.y ^ k.x, m1.y, m0.x ^ c.w ^ k.y, m0.y);
    k += vec2<u32>(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

/**
 * Gumbel noise -log(E), E = -log(u) ~ Exp(1), u uniform on (0, 1) in steps of
 * 2^-23. Near u = 1, log's absolute error (2^-21 allowed) would swamp E, so
 * E = -log(1 - t) comes from its series there (truncation error < 1e-8 relative).
 */
fn gumbel(streamKey: vec2<u32>, token: u32) -> f32 {
  let bits = philox4x32_10(vec4<u32>(token, p.step, p.seedHi, 0u), streamKey).x;
  let u = (f32(bits >> 9u) + 0.5) * (1.0 / 8388608.0);
  var e: f32;
  if (u > 0.875) {
    let t = 1.0 - u; // exact
    e = t * (1.0 + t * (1.0 / 2.0 + t * (1.0 / 3.0 + t * (1.0 / 4.0 + t * (1.0 / 5.0 + t * (1.0 / 6.0 + t * (1.0 / 7.0 + t * (1.0 / 8.0))))))));
  } else {
    e = -log(u);
  }
  return -log(e);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * p.rowStride;
  if (r >= p.M) { return; } // uniform over the workgroup
  let base = r * p.V;

  // Pass 1: argmax (lowest index on ties) and the key range [lo, hi] of the row. A NaN
  // logit raises the range's top to NONE, above every key of a loaded logit.
  var best = LOWEST;
  var bestIdx = NONE;
  var keys = vec2<u32>(NONE, 0u);
  for (var v = lid; v < p.V; v += WG) {
    let bits = logits[base + v]; // one read for the value and the NaN test
    let l = logitOfBits(bits);
    if (l > best || bestIdx == NONE) { best = l; bestIdx = v; }
    let k = orderedKey(l);
    keys = vec2<u32>(min(keys.x, k), max(keys.y, select(k, NONE, isNaNBits(bits))));
  }
  let stats = reduceArgmax(lid, best, bestIdx, keys);
  let argmaxIdx = stats.x;
  let lo = stats.y;
  let hi = stats.z;
  if (hi == NONE) { // the row has a NaN (uniform: every thread has the reduction's result)
    if (lid == 0u) {
      out[2u * r] = argmaxIdx;
      out[2u * r + 1u] = NAN_BITS;
    }
    return;
  }
  let lmax = loadLogit(base + argmaxIdx);
  let sampling = p.greedy == 0u;

  // Thresholds and normalisers: xk = the top-k threshold; the softmax
  // normalisers of the full row and of the top-k set (one measuring pass with
  // candidates lo and xk); xp = the top-p threshold within the top-k set.
  var xk = lo;
  if (sampling && p.topK > 0u && p.topK < p.V) {
    xk = searchThreshold(lid, base, lo, hi, false, lmax, f32(p.topK));
  }
  let none = vec4<u32>(NONE);
  let normalisers = measure(lid, base, array<vec4<u32>, 4>(vec4<u32>(lo, xk, NONE, NONE), none, none, none), true, lmax)[0];
  let zFull = normalisers.x;
  var xp = xk;
  if (sampling && p.topP < 1.0) {
    xp = searchThreshold(lid, base, xk, hi, true, lmax, p.topP * normalisers.y);
  }
  // Both are keys of real tokens (so <= hi); taking the larger means a rounding
  // slip of the mass search could never widen the top-k set.
  let threshold = max(xk, min(xp, hi));

  var chosen = argmaxIdx;
  if (sampling) {
    // Last pass: Gumbel-max over the kept tokens.
    let streamKey = vec2<u32>(p.seedLo, rowSeeds[r]);
    var bestScore = LOWEST;
    var bestToken = NONE;
    for (var v = lid; v < p.V; v += WG) {
      let l = loadLogit(base + v);
      let z = scaledLogit(l, lmax);
      if (orderedKey(l) >= threshold && exp(z) >= p.minP) {
        let score = z + gumbel(streamKey, v);
        if (score > bestScore || bestToken == NONE) { bestScore = score; bestToken = v; }
      }
    }
    let pick = reduceArgmax(lid, bestScore, bestToken, vec2<u32>()).x;
    if (pick < p.V) { chosen = pick; } // always true: the row's max token is kept
  }

  if (lid == 0u) {
    out[2u * r] = chosen;
    out[2u * r + 1u] = bitcast<u32>(scaledLogit(loadLogit(base + chosen), lmax) - log(zFull));
  }
}
