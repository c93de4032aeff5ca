"""Small test models for dist-opt, written with torch.nn.

Every model here is tiny (well under 5 MB of weights) so that exporting all of
them at several opsets takes seconds on a CI machine.  Each entry of ``MODELS``
knows how to build the module (deterministic weights from a fixed seed, eval
mode), how to make a fixed example input (fixed seed, token ids as int64), the
ONNX input/output names and which axes are exported as dynamic.

Run with Debian's interpreter: /usr/bin/python3 (python3-torch 1.13).
"""

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # e.g. run with a python3 that is not Debian's
    raise SystemExit(f"error: {e}. These scripts need Debian's python3-torch, python3-onnx and "
                     f"python3-numpy; run them with /usr/bin/python3.") from e

BATCH = 2          # concrete batch size of the example inputs
INPUT_SEED = 1234  # seed of the example inputs (weights use ModelSpec.seed)


# --------------------------------------------------------------------------- #
# Building blocks
# --------------------------------------------------------------------------- #

class SelfAttention(nn.Module):
    """Multi-head self-attention written out op by op.

    Projections are separate q/k/v Linear layers; heads are formed with
    reshape + transpose, scores are scaled, an optional mask is applied with
    masked_fill, softmax, weighted sum, heads merged back with transpose +
    reshape, output projection.
    """

    def __init__(self, dim: int, heads: int, dropout: float = 0.0):
        super().__init__()
        assert dim % heads == 0
        self.heads = heads
        self.head_dim = dim // heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = nn.Dropout(dropout)
        self.resid_drop = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        return x.reshape(b, t, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor = None) -> torch.Tensor:
        """x: [B, T, C]; mask: bool, broadcastable to [B, H, T, T], True = masked out."""
        b, t, c = x.shape
        q, k, v = self._split(self.q(x)), self._split(self.k(x)), self._split(self.v(x))
        att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        if mask is not None:
            att = att.masked_fill(mask, torch.finfo(att.dtype).min)
        att = F.softmax(att, dim=-1)
        att = self.attn_drop(att)
        y = torch.matmul(att, v)                       # [B, H, T, D]
        y = y.transpose(1, 2).reshape(b, t, c)
        return self.resid_drop(self.proj(y))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, gelu_approx: str = "none", dropout: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU(approximate=gelu_approx)
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.fc2(self.act(self.fc1(x))))


class PreLNBlock(nn.Module):
    """x + attn(ln1(x)); x + mlp(ln2(x))  (GPT-2 / ViT style)."""

    def __init__(self, dim, heads, mlp_ratio=4, gelu_approx="none", dropout=0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, dropout)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, dim * mlp_ratio, gelu_approx, dropout)

    def forward(self, x, mask=None):
        x = x + self.attn(self.ln1(x), mask)
        x = x + self.mlp(self.ln2(x))
        return x


class PostLNBlock(nn.Module):
    """ln1(x + attn(x)); ln2(x + mlp(x))  (BERT style)."""

    def __init__(self, dim, heads, mlp_ratio=4, gelu_approx="none", dropout=0.0):
        super().__init__()
        self.attn = SelfAttention(dim, heads, dropout)
        self.ln1 = nn.LayerNorm(dim, eps=1e-12)
        self.mlp = Mlp(dim, dim * mlp_ratio, gelu_approx, dropout)
        self.ln2 = nn.LayerNorm(dim, eps=1e-12)

    def forward(self, x, mask=None):
        x = self.ln1(x + self.attn(x, mask))
        x = self.ln2(x + self.mlp(x))
        return x


def randomize_layernorms(model: nn.Module, seed: int) -> None:
    """Give every LayerNorm a non-trivial scale and shift.

    With the default init (ones / zeros) all LayerNorm parameters are equal,
    PyTorch's exporter deduplicates them into one initializer plus Identity
    nodes, and a swapped scale/bias would go unnoticed numerically.  GPT2 keeps
    the default init on purpose (its export shows that deduplication); the
    other transformer-like models call this.
    """
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))


# --------------------------------------------------------------------------- #
# Models
# --------------------------------------------------------------------------- #

class MLP(nn.Module):
    """3-layer MLP with exact (erf) GELU and dropout."""

    def __init__(self, d_in=64, d_hidden=128, d_out=10, dropout=0.1):
        super().__init__()
        self.fc1 = nn.Linear(d_in, d_hidden)
        self.fc2 = nn.Linear(d_hidden, d_hidden)
        self.fc3 = nn.Linear(d_hidden, d_out)
        self.act = nn.GELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        x = self.drop(self.act(self.fc1(x)))
        x = self.drop(self.act(self.fc2(x)))
        return self.fc3(x)


class GPT2(nn.Module):
    """GPT-2-style decoder: tied LM head, causal mask buffer, tanh GELU."""

    def __init__(self, vocab=256, max_pos=32, dim=64, heads=4, layers=2, dropout=0.1):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(max_pos, dim)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            [PreLNBlock(dim, heads, 4, gelu_approx="tanh", dropout=dropout) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.lm_head.weight = self.wte.weight           # tied weights
        # 1 on and below the diagonal: position i may attend to j <= i.
        self.register_buffer(
            "causal_mask", torch.tril(torch.ones(max_pos, max_pos, dtype=torch.bool))
            .view(1, 1, max_pos, max_pos), persistent=False)
        for name, p in self.named_parameters():          # GPT-2 init
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, input_ids):
        b, t = input_ids.shape
        pos = torch.arange(0, t, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        x = self.drop(self.wte(input_ids) + self.wpe(pos))
        masked = ~self.causal_mask[:, :, :t, :t]        # True = may not attend
        for blk in self.blocks:
            x = blk(x, masked)
        return self.lm_head(self.ln_f(x))


class BERT(nn.Module):
    """BERT-style encoder: token/position/segment embeddings, post-LN blocks,
    bidirectional attention with a [batch, seq] padding mask, tanh pooler."""

    def __init__(self, vocab=256, max_pos=32, type_vocab=2, dim=64, heads=4, layers=2, dropout=0.1):
        super().__init__()
        self.word = nn.Embedding(vocab, dim)
        self.position = nn.Embedding(max_pos, dim)
        self.segment = nn.Embedding(type_vocab, dim)
        self.emb_ln = nn.LayerNorm(dim, eps=1e-12)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            [PostLNBlock(dim, heads, 4, gelu_approx="none", dropout=dropout) for _ in range(layers)])
        self.pooler = nn.Linear(dim, dim)
        self.register_buffer("position_ids", torch.arange(max_pos).unsqueeze(0), persistent=False)
        randomize_layernorms(self, 31)

    def forward(self, input_ids, token_type_ids, attention_mask):
        b, t = input_ids.shape
        pos = self.position_ids[:, :t]
        x = self.word(input_ids) + self.position(pos) + self.segment(token_type_ids)
        x = self.drop(self.emb_ln(x))
        masked = (attention_mask == 0)[:, None, None, :]  # [B,1,1,T], True = padding
        for blk in self.blocks:
            x = blk(x, masked)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return x, pooled


class ViT(nn.Module):
    """ViT-style classifier: conv patch embedding, class token, learned
    position embeddings, pre-LN blocks, final LN, linear head on the class token."""

    def __init__(self, image=32, patch=8, channels=3, dim=64, heads=4, layers=2, classes=10):
        super().__init__()
        n = (image // patch) ** 2
        self.patch_embed = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([PreLNBlock(dim, heads, 2) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        randomize_layernorms(self, 41)

    def forward(self, pixels):
        x = self.patch_embed(pixels)                      # [B, C, H', W']
        x = x.flatten(2).transpose(1, 2)                  # [B, N, C]
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + identity)


class ResNet(nn.Module):
    """Tiny ResNet: stem conv+BN+ReLU, max pool, basic blocks (one strided with
    a 1x1 downsample), global average pool, flatten, linear."""

    def __init__(self, channels=3, width=16, classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(channels, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.pool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = BasicBlock(width, width)
        self.layer2 = BasicBlock(width, 2 * width, stride=2)
        self.layer3 = BasicBlock(2 * width, 2 * width)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2 * width, classes)
        # Non-trivial BatchNorm statistics and affine parameters, so that
        # folding or executing BN is actually exercised.
        g = torch.Generator().manual_seed(7)
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
                with torch.no_grad():
                    m.weight.copy_(torch.rand(c, generator=g) * 0.5 + 0.75)
                    m.bias.copy_(torch.randn(c, generator=g) * 0.1)

    def forward(self, pixels):
        x = self.pool(self.stem(pixels))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.avgpool(x)))


class MixerBlock(nn.Module):
    def __init__(self, tokens, dim, token_hidden, channel_hidden, dropout=0.0):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.token_mlp = Mlp(tokens, token_hidden, dropout=dropout)
        self.ln2 = nn.LayerNorm(dim)
        self.channel_mlp = Mlp(dim, channel_hidden, dropout=dropout)

    def forward(self, x):                                 # x: [B, N, C]
        y = self.ln1(x).transpose(1, 2)                   # [B, C, N]
        x = x + self.token_mlp(y).transpose(1, 2)
        return x + self.channel_mlp(self.ln2(x))


class Mixer(nn.Module):
    """MLP-Mixer: conv patch embedding, token- and channel-mixing MLPs."""

    def __init__(self, image=32, patch=8, channels=3, dim=64, layers=2, classes=10):
        super().__init__()
        n = (image // patch) ** 2
        self.stem = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)
        self.blocks = nn.Sequential(*[MixerBlock(n, dim, 32, 4 * dim, 0.1) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        randomize_layernorms(self, 61)

    def forward(self, pixels):
        x = self.stem(pixels).flatten(2).transpose(1, 2)  # [B, N, C]
        x = self.norm(self.blocks(x))
        return self.head(x.mean(dim=1))


class Top2MoE(nn.Module):
    """Top-2 mixture of experts as routers are written in PyTorch: a linear
    router, torch.topk over its logits, a softmax over the two kept logits,
    dense experts (two batched einsums over all experts), the two chosen
    experts' outputs picked with torch.gather and mixed by their weights,
    and each expert's share of the tokens (the gates scattered into zeros,
    averaged), the input of a load-balancing loss."""

    def __init__(self, features=16, dim=32, experts=4, hidden=48, classes=10):
        super().__init__()
        self.embed = nn.Linear(features, dim)
        self.router = nn.Linear(dim, experts)
        self.w1 = nn.Parameter(torch.randn(experts, dim, hidden) / math.sqrt(dim))
        self.w2 = nn.Parameter(torch.randn(experts, hidden, dim) / math.sqrt(hidden))
        self.head = nn.Linear(dim, classes)

    def forward(self, x):                                 # x: [B, T, F]
        h = self.embed(x)                                 # [B, T, D]
        logits = self.router(h)                           # [B, T, E]
        top_logits, top_experts = torch.topk(logits, 2, dim=-1)   # [B, T, 2]
        weights = torch.softmax(top_logits, dim=-1)
        hidden = F.gelu(torch.einsum("btd,edh->bteh", h, self.w1))
        outs = torch.einsum("bteh,ehd->bted", hidden, self.w2)    # [B, T, E, D]
        index = top_experts.unsqueeze(-1).expand(-1, -1, -1, outs.shape[-1])
        chosen = torch.gather(outs, 2, index)             # [B, T, 2, D]
        mixed = (weights.unsqueeze(-1) * chosen).sum(dim=2)
        gates = torch.zeros_like(logits).scatter(-1, top_experts, weights)
        load = gates.mean(dim=(0, 1))                     # [E]
        return self.head(h + mixed), load


# --------------------------------------------------------------------------- #
# Registry
# --------------------------------------------------------------------------- #

class T5RMSNorm(nn.Module):
    """T5's layer norm: scale only, no mean subtraction, no bias."""

    def __init__(self, d: int, eps: float = 1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class T5Encoder(nn.Module):
    """T5-style encoder: RMS norms, bias-free linears, bucketed relative
    position bias shared by all layers (computed with log/min/where on
    positions, so it folds once shapes are fixed), ReLU feed-forward, no
    attention scaling, padding mask."""

    def __init__(self, vocab=256, d=64, heads=4, layers=2, ff=128, buckets=8,
                 max_distance=32):
        super().__init__()
        self.heads, self.buckets, self.max_distance = heads, buckets, max_distance
        self.embed = nn.Embedding(vocab, d)
        self.rel_bias = nn.Embedding(buckets, heads)
        self.layers = nn.ModuleList()
        for _ in range(layers):
            self.layers.append(nn.ModuleDict(dict(
                norm1=T5RMSNorm(d), q=nn.Linear(d, d, bias=False), k=nn.Linear(d, d, bias=False),
                v=nn.Linear(d, d, bias=False), o=nn.Linear(d, d, bias=False),
                norm2=T5RMSNorm(d), wi=nn.Linear(d, ff, bias=False),
                wo=nn.Linear(ff, d, bias=False))))
        self.final_norm = T5RMSNorm(d)
        self.drop = nn.Dropout(0.1)

    def bucket(self, relative):
        """Bidirectional bucketing of relative positions, as in T5."""
        half = self.buckets // 2
        ret = (relative > 0).long() * half
        n = relative.abs()
        max_exact = half // 2
        large = max_exact + (torch.log(n.float().clamp(min=1) / max_exact)
                             / math.log(self.max_distance / max_exact)
                             * (half - max_exact)).long()
        large = torch.min(large, torch.full_like(large, half - 1))
        return ret + torch.where(n < max_exact, n, large)

    def forward(self, input_ids, attention_mask):
        b, t = input_ids.shape
        pos = torch.arange(t, device=input_ids.device)
        bias = self.rel_bias(self.bucket(pos[None, :] - pos[:, None]))   # [t, t, h]
        bias = bias.permute(2, 0, 1).unsqueeze(0)                        # [1, h, t, t]
        pad = (1.0 - attention_mask[:, None, None, :].float()) * -1e9    # [b, 1, 1, t]
        x = self.drop(self.embed(input_ids))
        hd = x.shape[-1] // self.heads
        for layer in self.layers:
            h = layer["norm1"](x)
            q, k, v = (layer[n](h).reshape(b, t, self.heads, hd).transpose(1, 2)
                       for n in ("q", "k", "v"))
            scores = q @ k.transpose(-1, -2) + bias + pad
            a = torch.softmax(scores, dim=-1) @ v
            x = x + self.drop(layer["o"](a.transpose(1, 2).reshape(b, t, -1)))
            x = x + self.drop(layer["wo"](F.relu(layer["wi"](layer["norm2"](x)))))
        return self.final_norm(x)


@dataclass
class ModelSpec:
    name: str
    description: str
    ctor: Callable[[], nn.Module]
    make_inputs: Callable[[torch.Generator], Tuple[torch.Tensor, ...]]
    input_names: List[str]
    output_names: List[str]
    dynamic_axes: Dict[str, Dict[int, str]] = field(default_factory=dict)
    seed: int = 0

    def build(self) -> nn.Module:
        """The model with deterministic weights, in eval mode."""
        torch.manual_seed(self.seed)
        m = self.ctor()
        m.eval()
        return m

    def example_inputs(self) -> Tuple[torch.Tensor, ...]:
        """Fixed example inputs (same values on every call)."""
        g = torch.Generator().manual_seed(INPUT_SEED)
        return tuple(self.make_inputs(g))


def _batch_axes(names, more=None):
    d = {n: {0: "batch"} for n in names}
    for n, axes in (more or {}).items():
        d.setdefault(n, {}).update(axes)
    return d


def _tokens(g, vocab=256, seq=16):
    return torch.randint(0, vocab, (BATCH, seq), generator=g, dtype=torch.int64)


def _bert_inputs(g, seq=16):
    ids = _tokens(g, seq=seq)
    types = torch.cat([torch.zeros(BATCH, seq // 2, dtype=torch.int64),
                       torch.ones(BATCH, seq - seq // 2, dtype=torch.int64)], dim=1)
    mask = torch.ones(BATCH, seq, dtype=torch.int64)
    mask[1, seq - 5:] = 0                                 # padding in the 2nd sequence
    return ids, types, mask


def _t5_inputs(g, seq=16):
    ids = _tokens(g, seq=seq)
    mask = torch.ones(BATCH, seq, dtype=torch.int64)
    mask[0, seq - 3:] = 0                                 # padding in the 1st sequence
    return ids, mask


def _image(g, size=32):
    return (torch.randn(BATCH, 3, size, size, generator=g),)


MODELS: Dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("mlp", "3-layer MLP, erf GELU, dropout", MLP,
              lambda g: (torch.randn(BATCH, 64, generator=g),),
              ["x"], ["y"], _batch_axes(["x", "y"]), seed=1),
    ModelSpec("gpt2", "GPT-2 decoder: 2 pre-LN blocks, d=64, 4 heads, vocab 256, tied LM head, "
              "causal mask buffer, tanh GELU, dropout", GPT2,
              lambda g: (_tokens(g),),
              ["input_ids"], ["logits"], _batch_axes(["input_ids", "logits"]), seed=2),
    ModelSpec("bert", "BERT encoder: 2 post-LN blocks, d=64, 4 heads, segment embeddings, "
              "[batch, seq] attention mask, tanh pooler, erf GELU, dropout", BERT,
              _bert_inputs,
              ["input_ids", "token_type_ids", "attention_mask"],
              ["last_hidden_state", "pooler_output"],
              _batch_axes(["input_ids", "token_type_ids", "attention_mask",
                           "last_hidden_state", "pooler_output"]), seed=3),
    ModelSpec("vit", "ViT: 32x32 image, 8x8 conv patches, class token, 2 pre-LN blocks, d=64",
              ViT, _image, ["pixel_values"], ["logits"],
              _batch_axes(["pixel_values", "logits"]), seed=4),
    ModelSpec("resnet", "ResNet: conv-BN-ReLU stem, max pool, 3 basic blocks (one stride 2 "
              "with 1x1 downsample), global average pool, linear", ResNet,
              _image, ["pixel_values"], ["logits"],
              _batch_axes(["pixel_values", "logits"]), seed=5),
    ModelSpec("t5", "T5 encoder: 2 blocks, d=64, 4 heads, RMS norms, bias-free linears, "
              "bucketed relative position bias, ReLU feed-forward, padding mask, dropout",
              T5Encoder, _t5_inputs, ["input_ids", "attention_mask"], ["last_hidden_state"],
              _batch_axes(["input_ids", "attention_mask", "last_hidden_state"]), seed=7),
    ModelSpec("mixer", "MLP-Mixer: 8x8 conv patches, 2 mixer blocks (token + channel MLPs), "
              "LayerNorm, mean pool, dropout", Mixer,
              _image, ["pixel_values"], ["logits"],
              _batch_axes(["pixel_values", "logits"]), seed=6),
]}


# Models exported only when named (models/export.py --models moe): the
# planned and pipelined tests that run every model of MODELS do not take
# them; their own tests say how they are checked.
OPT_IN_MODELS: Dict[str, ModelSpec] = {s.name: s for s in [
    ModelSpec("moe", "top-2 mixture of experts: linear router, torch.topk, softmax over "
              "the top 2, dense experts by einsum, torch.gather of the chosen experts, "
              "expert load by scatter", Top2MoE,
              lambda g: (torch.randn(BATCH, 8, 16, generator=g),),
              ["x"], ["logits", "load"], _batch_axes(["x", "logits"]), seed=8),
]}


def num_parameters(model: nn.Module) -> int:
    """Unique parameters (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())
