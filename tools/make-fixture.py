#!/usr/bin/python3
"""Golden fixtures for variant Qwen3 shapes, computed with PyTorch autograd.

A development tool, never needed by the tests or the product: it writes a model
folder and a case file in the format of test/fixtures/qwen3-tiny (see
../shared/fixtures/README.md) so that the engine is checked on shapes the
shared fixture does not cover (untied head, bf16 weights, head_dim != 16,
odd T, batch 3, GQA ratio 3). `--check DIR` recomputes an existing fixture and
prints its errors, which validates this reference against the shared one.

    /usr/bin/python3 tools/make-fixture.py --out test/fixtures/qwen3-untied-hd24 --variant untied-hd24
    /usr/bin/python3 tools/make-fixture.py --check test/fixtures/qwen3-tiny
"""
import argparse, json, math, os, struct, sys
import torch

torch.set_default_dtype(torch.float32)

VARIANTS = {
    # vocab, hidden, inter, layers, heads, kv, head_dim, tied, dtype, B, T
    "untied-hd24": dict(vocab=97, hidden=40, inter=56, layers=2, heads=3, kv=1, head_dim=24, tied=False, dtype="F32", B=3, T=37),
    "bf16-hd32": dict(vocab=130, hidden=48, inter=72, layers=3, heads=2, kv=2, head_dim=32, tied=True, dtype="BF16", B=2, T=9),
}

DT = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16, "I32": torch.int32, "I64": torch.int64}
DT_NAME = {v: k for k, v in DT.items()}


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
        out[name] = t.clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": DT_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def rmsnorm(x, w, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, pos, theta):  # x [B, T, H, D]
    D = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.int64).float() / D))
    ang = pos[:, :, None].float() * inv[None, None, :]
    emb = torch.cat([ang, ang], -1)
    cos, sin = emb.cos()[:, :, None, :], emb.sin()[:, :, None, :]
    x1, x2 = x[..., : D // 2], x[..., D // 2 :]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def forward(W, cfg, ids):
    B, T = ids.shape
    H, nh, nkv, hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]
    x = W["model.embed_tokens.weight"][ids]
    pos = torch.arange(T)[None, :].expand(B, T)
    mask = torch.full((T, T), float("-inf")).triu(1)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        h = rmsnorm(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(B, T, nh, hd)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(B, T, nkv, hd)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(B, T, nkv, hd)
        q = rope(rmsnorm(q, W[p + "self_attn.q_norm.weight"], eps), pos, theta)
        k = rope(rmsnorm(k, W[p + "self_attn.k_norm.weight"], eps), pos, theta)
        rep = nh // nkv
        k = k.repeat_interleave(rep, dim=2)
        v = v.repeat_interleave(rep, dim=2)
        s = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(hd) + mask
        o = torch.einsum("bhqk,bkhd->bqhd", s.softmax(-1), v).reshape(B, T, nh * hd)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        h = rmsnorm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = h @ W[p + "mlp.gate_proj.weight"].T
        u = h @ W[p + "mlp.up_proj.weight"].T
        x = x + (torch.nn.functional.silu(g) * u) @ W[p + "mlp.down_proj.weight"].T
    x = rmsnorm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T


def logprobs_of(logits, ids):
    lp = logits[:, :-1].log_softmax(-1)
    return lp.gather(-1, ids[:, 1:, None])[..., 0]


def sft_loss(logits, ids, mask):
    m = mask[:, 1:]
    return -(logprobs_of(logits, ids) * m).sum() / m.sum()


def grpo_loss(logits, ids, mask, adv, old, ref, eps, kl_coef):
    lp = logprobs_of(logits, ids)
    m = mask[:, 1:]
    ratio = torch.exp(lp - old)
    A = adv[:, None]
    pg = torch.maximum(-A * ratio, -A * ratio.clamp(1 - eps, 1 + eps))
    kl = torch.exp(ref - lp) - (ref - lp) - 1
    return ((pg + kl_coef * kl) * m).sum() / m.sum()


def compute(W0, cfg, case):
    ids = case["input_ids"].long()
    mask = case["loss_mask"].float()
    out = {}
    W = {k: v.float().clone().requires_grad_(True) for k, v in W0.items()}
    logits = forward(W, cfg, ids)
    out["logits"] = logits.detach()
    out["logprobs"] = logprobs_of(logits, ids).detach()
    loss = sft_loss(logits, ids, mask)
    loss.backward()
    out["sft_loss"] = loss.detach().reshape(1)
    for k, v in W.items():
        out[f"sft.grad.{k}"] = v.grad.detach().clone()
        v.grad = None
    eps, klc = float(case["grpo_clip_eps"][0]), float(case["grpo_kl_coef"][0])
    loss = grpo_loss(forward(W, cfg, ids), ids, mask, case["grpo_advantages"].float(), case["grpo_old_logprobs"].float(), case["grpo_ref_logprobs"].float(), eps, klc)
    loss.backward()
    out["grpo_loss"] = loss.detach().reshape(1)
    for k, v in W.items():
        out[f"grpo.grad.{k}"] = v.grad.detach().clone()
        v.grad = None
    betas = case["adamw_betas"].tolist()
    opt = torch.optim.AdamW(list(W.values()), lr=float(case["adamw_lr"][0]), betas=(betas[0], betas[1]), eps=float(case["adamw_eps"][0]), weight_decay=float(case["adamw_weight_decay"][0]))
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = sft_loss(forward(W, cfg, ids), ids, mask)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    out["adamw_losses"] = torch.tensor(losses)
    return out


def make(variant, out_dir, seed):
    v = VARIANTS[variant]
    g = torch.Generator().manual_seed(seed)
    cfg = {
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": v["vocab"], "hidden_size": v["hidden"],
        "intermediate_size": v["inter"], "num_hidden_layers": v["layers"], "num_attention_heads": v["heads"],
        "num_key_value_heads": v["kv"], "head_dim": v["head_dim"], "hidden_act": "silu", "max_position_embeddings": 64,
        "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "rope_scaling": None, "tie_word_embeddings": v["tied"],
        "attention_bias": False, "attention_dropout": 0.0, "use_sliding_window": False, "sliding_window": None,
        "torch_dtype": "bfloat16" if v["dtype"] == "BF16" else "float32",
    }
    H, I, nh, nkv, hd, V = v["hidden"], v["inter"], v["heads"], v["kv"], v["head_dim"], v["vocab"]
    shapes = {"model.embed_tokens.weight": (V, H)}
    for l in range(v["layers"]):
        p = f"model.layers.{l}."
        shapes.update({p + "self_attn.q_proj.weight": (nh * hd, H), p + "self_attn.k_proj.weight": (nkv * hd, H),
                       p + "self_attn.v_proj.weight": (nkv * hd, H), p + "self_attn.o_proj.weight": (H, nh * hd),
                       p + "self_attn.q_norm.weight": (hd,), p + "self_attn.k_norm.weight": (hd,),
                       p + "mlp.gate_proj.weight": (I, H), p + "mlp.up_proj.weight": (I, H), p + "mlp.down_proj.weight": (H, I),
                       p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,)})
    shapes["model.norm.weight"] = (H,)
    if not v["tied"]:
        shapes["lm_head.weight"] = (V, H)
    W = {}
    for name, shp in shapes.items():
        if len(shp) == 1:
            W[name] = 1.0 + 0.1 * torch.randn(shp, generator=g)
        else:
            W[name] = 0.15 * torch.randn(shp, generator=g)
    W = {k: t.to(DT[v["dtype"]]) for k, t in W.items()}
    B, T = v["B"], v["T"]
    ids = torch.randint(0, V, (B, T), generator=g, dtype=torch.int32)
    mask = torch.zeros(B, T)
    for b in range(B):  # a prompt prefix, then response tokens, then right padding for all but the first row
        start, end = 2 + b, T - 3 * b
        mask[b, start:end] = 1
    case = {
        "input_ids": ids, "loss_mask": mask,
        "grpo_advantages": torch.linspace(-1.3, 1.1, B),
        "grpo_clip_eps": torch.tensor([0.2]), "grpo_kl_coef": torch.tensor([0.001]),
        "adamw_lr": torch.tensor([3e-3]), "adamw_betas": torch.tensor([0.9, 0.95]),
        "adamw_eps": torch.tensor([1e-8]), "adamw_weight_decay": torch.tensor([0.1]),
    }
    with torch.no_grad():
        lp = logprobs_of(forward({k: t.float() for k, t in W.items()}, cfg, ids.long()), ids.long())
    # behaviour policy off by up to +/-0.4 nats so both clip branches are hit; reference off by less
    case["grpo_old_logprobs"] = lp + 0.4 * (2 * torch.rand(lp.shape, generator=g) - 1)
    case["grpo_ref_logprobs"] = lp + 0.1 * (2 * torch.rand(lp.shape, generator=g) - 1)
    case.update(compute(W, cfg, case))
    os.makedirs(os.path.join(out_dir, "model"), exist_ok=True)
    with open(os.path.join(out_dir, "model", "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(out_dir, "model", "model.safetensors"), W)
    write_safetensors(os.path.join(out_dir, "case.safetensors"), {k: (t.float() if t.dtype == torch.float64 else t) for k, t in case.items()})
    print(f"wrote {out_dir}")


def check(fixture_dir):
    cfg = json.load(open(os.path.join(fixture_dir, "model", "config.json")))
    cfg.setdefault("head_dim", cfg["hidden_size"] // cfg["num_attention_heads"])
    W = read_safetensors(os.path.join(fixture_dir, "model", "model.safetensors"))
    case = read_safetensors(os.path.join(fixture_dir, "case.safetensors"))
    mine = compute(W, cfg, case)
    worst = 0.0
    for k, t in mine.items():
        ref = case[k].float()
        diff = (t.float() - ref).norm()
        # A zero reference has no relative error: report the absolute one instead of nan or inf.
        err = (diff / ref.norm() if ref.norm() > 0 else diff).item()
        # `max` would drop a nan (max(0.0, nan) is 0.0); a nan must be the worst.
        if not err <= worst:
            worst = err
        print(f"{k:55s} {err:.2e}")
    print(f"worst relative error {worst:.2e}")
    if math.isnan(worst):
        sys.exit("make-fixture: a recomputed tensor is nan")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Writes a golden-state fixture (--variant with --out) or recomputes one and prints its errors (--check DIR).")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--variant", choices=sorted(VARIANTS))
    mode.add_argument("--check", metavar="DIR")
    ap.add_argument("--out")
    ap.add_argument("--seed", type=int, default=1234)
    a = ap.parse_args()
    if a.check:
        if a.out:
            ap.error("--out is for --variant; --check reads the fixture in place")
        check(a.check)
    else:
        if not a.out:
            ap.error("--variant needs --out DIR")
        make(a.variant, a.out, a.seed)
