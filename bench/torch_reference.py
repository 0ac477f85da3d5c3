#!/usr/bin/python3
"""PyTorch side of the benchmarks: the same Qwen3 model, the same work, on the CPU.

A benchmark harness, not part of the engine (nothing in src/ or test/ uses it).
The JS benchmarks (bench/src/model.ts, bench/src/decode.ts) write the model as
a Hugging Face folder (config.json + model.safetensors, f32) and the batch or
prompts as JSON into a temporary folder, run this script and read the JSON it
prints on its last line of stdout.

    train:  one SFT-style step per repetition on a fixed batch: forward, the
            token-masked mean NLL of the completion targets, backward, AdamW
            (torch.optim.AdamW, same hyper-parameters as the engine's step).
            Prints every step's loss (computed before that step's update) and
            its wall time.
    decode: greedy (and temperature-1) generation with a KV cache from prompts
            of equal length, per batch size; prints the time of the prefill and
            of every decode step, and the greedy tokens.

The model is a straightforward PyTorch Qwen3: RMSNorm, per-head q/k RMSNorm
before RoPE (rotate-half), GQA causal attention through
torch.nn.functional.scaled_dot_product_attention when this torch has it
(>= 2.0; otherwise the same math written out: masked softmax(q k^T / sqrt(d)) v),
SiLU-gated MLP, tied or untied head. It reads safetensors itself (the
`safetensors` package is not needed).

    /usr/bin/python3 bench/torch_reference.py train --model DIR --batch batch.json --steps 4
    /usr/bin/python3 bench/torch_reference.py decode --model DIR --prompts prompts.json --batches 1,8,32 --new-tokens 32
"""
import argparse
import json
import math
import os
import statistics
import struct
import sys
import time

import torch
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")
DT = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:e]), dtype=DT[info["dtype"]]).reshape(info["shape"])
        out[name] = t.float().clone()
    return out


def load_model(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    cfg.setdefault("num_key_value_heads", cfg["num_attention_heads"])
    single = os.path.join(folder, "model.safetensors")
    if os.path.exists(single):
        return cfg, read_safetensors(single)
    # Weights past checkpoint.maxShardBytes are split into shards listed in the index.
    with open(os.path.join(folder, "model.safetensors.index.json")) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    weights = {}
    for shard in shards:
        weights.update(read_safetensors(os.path.join(folder, shard)))
    return cfg, weights


class Qwen3:
    def __init__(self, cfg, weights, requires_grad):
        self.cfg = cfg
        self.W = {k: v.requires_grad_(requires_grad) for k, v in weights.items()}
        self.head_name = "model.embed_tokens.weight" if cfg["tie_word_embeddings"] else "lm_head.weight"
        D, theta = cfg["head_dim"], cfg["rope_theta"]
        inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
        ang = torch.arange(cfg["max_position_embeddings"]).float()[:, None] * inv[None, :]
        emb = torch.cat([ang, ang], -1)
        self.cos, self.sin = emb.cos(), emb.sin()  # [maxPos, D]

    def parameters(self):
        return list(self.W.values())  # the tied head is the embedding itself: one parameter

    def rmsnorm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg["rms_norm_eps"]) * w

    def rope(self, x, pos):  # x [B, H, T, D], pos [T] (the same positions for every row)
        cos, sin = self.cos[pos][None, None], self.sin[pos][None, None]
        half = x.shape[-1] // 2
        x1, x2 = x[..., :half], x[..., half:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def attention(self, q, k, v, causal):  # q [B, Hq, Tq, D], k/v [B, Hkv, Tk, D]
        rep = q.shape[1] // k.shape[1]
        if rep > 1:
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
        if HAS_SDPA:
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        s = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        if causal:
            Tq, Tk = q.shape[2], k.shape[2]
            s = s.masked_fill(torch.ones(Tq, Tk, dtype=torch.bool).triu(Tk - Tq + 1), float("-inf"))
        return s.softmax(-1) @ v

    def forward(self, ids, start=0, cache=None):
        """ids [B, T] at positions start..start+T-1; with `cache`, appends k/v to it and attends to all cached positions."""
        cfg, W = self.cfg, self.W
        B, T = ids.shape
        nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
        pos = torch.arange(start, start + T)
        x = W["model.embed_tokens.weight"][ids]
        for l in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{l}."
            h = self.rmsnorm(x, W[p + "input_layernorm.weight"])
            q = (h @ W[p + "self_attn.q_proj.weight"].T).view(B, T, nh, hd)
            k = (h @ W[p + "self_attn.k_proj.weight"].T).view(B, T, nkv, hd)
            v = (h @ W[p + "self_attn.v_proj.weight"].T).view(B, T, nkv, hd).transpose(1, 2)
            q = self.rope(self.rmsnorm(q, W[p + "self_attn.q_norm.weight"]).transpose(1, 2), pos)
            k = self.rope(self.rmsnorm(k, W[p + "self_attn.k_norm.weight"]).transpose(1, 2), pos)
            if cache is not None:
                kc, vc = cache[l]
                kc[:, :, start:start + T] = k
                vc[:, :, start:start + T] = v
                k, v = kc[:, :, :start + T], vc[:, :, :start + T]
            # a single new token attends to every cached position: no mask needed
            o = self.attention(q, k, v, causal=T > 1).transpose(1, 2).reshape(B, T, nh * hd)
            x = x + o @ W[p + "self_attn.o_proj.weight"].T
            h = self.rmsnorm(x, W[p + "post_attention_layernorm.weight"])
            x = x + (F.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
        x = self.rmsnorm(x, W["model.norm.weight"])
        return x @ W[self.head_name].T

    def new_cache(self, B, max_len):
        c = self.cfg
        shape = (B, c["num_key_value_heads"], max_len, c["head_dim"])
        return [(torch.empty(shape), torch.empty(shape)) for _ in range(c["num_hidden_layers"])]


def run_train(a):
    cfg, weights = load_model(a.model)
    with open(a.batch) as f:
        batch = json.load(f)
    B, T = batch["B"], batch["T"]
    ids = torch.tensor(batch["ids"], dtype=torch.int64).view(B, T)
    mask = torch.tensor(batch["mask"], dtype=torch.float32).view(B, T)  # mask[b, t]: the target of position t (token t+1) counts
    hp = batch["adamw"]
    model = Qwen3(cfg, weights, requires_grad=True)
    opt = torch.optim.AdamW(model.parameters(), lr=hp["lr"], betas=(hp["beta1"], hp["beta2"]), eps=hp["eps"], weight_decay=hp["weightDecay"])
    m = mask[:, :-1]
    count = m.sum()
    losses, step_ms = [], []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = model.forward(ids)
        lp = logits[:, :-1].log_softmax(-1).gather(-1, ids[:, 1:, None])[..., 0]
        loss = -(lp * m).sum() / count
        loss.backward()
        opt.step()
        step_ms.append((time.perf_counter() - t0) * 1e3)
        losses.append(loss.item())
    return {"losses": losses, "stepMs": step_ms, "msMedian": statistics.median(step_ms[1:] if len(step_ms) > 1 else step_ms)}


def run_decode(a):
    cfg, weights = load_model(a.model)
    with open(a.prompts) as f:
        prompts = torch.tensor(json.load(f)["prompts"], dtype=torch.int64)  # [maxBatch, P], equal lengths
    model = Qwen3(cfg, weights, requires_grad=False)
    P = prompts.shape[1]
    gen = torch.Generator().manual_seed(1234)
    out = []

    def pick(logits, mode):
        if mode == "greedy":
            return logits.argmax(-1)
        return torch.multinomial(logits.softmax(-1), 1, generator=gen)[:, 0]  # temperature 1

    def generate(B, n, mode):
        cache = model.new_cache(B, P + n)
        t0 = time.perf_counter()
        logits = model.forward(prompts[:B], 0, cache)
        tok = pick(logits[:, -1], mode)
        prefill_ms = (time.perf_counter() - t0) * 1e3
        tokens, step_ms = [tok], []
        for i in range(n - 1):
            ts = time.perf_counter()
            logits = model.forward(tok[:, None], P + i, cache)
            tok = pick(logits[:, -1], mode)
            step_ms.append((time.perf_counter() - ts) * 1e3)
            tokens.append(tok)
        total_ms = (time.perf_counter() - t0) * 1e3
        return prefill_ms, step_ms, total_ms, torch.stack(tokens, 1)

    with torch.no_grad():
        generate(1, 2, "greedy")  # warm-up
        for B in [int(b) for b in a.batches.split(",")]:
            for mode in a.modes.split(","):
                prefill_ms, step_ms, total_ms, tokens = generate(B, a.new_tokens, mode)
                step = statistics.median(step_ms) if step_ms else float("nan")
                out.append({
                    "batch": B, "mode": mode, "prefillMs": prefill_ms, "stepMs": step, "stepMsMean": sum(step_ms) / max(1, len(step_ms)),
                    "totalMs": total_ms, "decodeTokensPerSecond": B / step * 1e3, "tokensPerSecond": B * a.new_tokens / total_ms * 1e3,
                    "tokens": tokens.tolist() if mode == "greedy" else None,
                })
    return out


def blas_libraries():
    """The BLAS / LAPACK libraries this process has loaded (resolved paths), from /proc/self/maps.

    Debian's torch links the libblas.so.3 its alternatives point at: OpenBLAS makes the reference
    several times faster than the netlib reference BLAS, so a record must say which one ran.
    """
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line and ".so" in line}
    except OSError:
        return []
    names = ("blas", "lapack", "mkl", "blis", "atlas")
    return sorted({os.path.realpath(p) for p in paths if any(n in os.path.basename(p).lower() for n in names)})


def blas_kind(libraries):
    """'openblas', 'mkl', 'blis', 'reference' (netlib, slow) or 'unknown', from the loaded libraries."""
    joined = " ".join(libraries).lower()
    for kind in ("openblas", "mkl", "blis"):
        if kind in joined:
            return kind
    if "/blas/libblas" in joined or "libblas.so" in joined:
        return "reference"
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["train", "decode"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--prompts")
    ap.add_argument("--batches", default="1,8,32")
    ap.add_argument("--modes", default="greedy,sample")
    ap.add_argument("--new-tokens", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "sdpa": HAS_SDPA}
    t0 = time.perf_counter()
    if a.command == "train":
        result["train"] = run_train(a)
    else:
        result["decode"] = run_decode(a)
    result["seconds"] = time.perf_counter() - t0
    result["blasLibraries"] = blas_libraries()
    result["blas"] = blas_kind(result["blasLibraries"])
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
