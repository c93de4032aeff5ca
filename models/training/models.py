"""Models for the training checks of dist-opt (issue 12): definitions and registry.

Models small enough that 20 training steps take well under a second on two
cores, each a torch.nn.Module whose weights come from a fixed seed:

  gpt       GPT-style decoder, untied LM head
  gpt_tied  the same decoder with the LM head tied to the token embedding
  bert      BERT-style encoder (post-LN, token-type embeddings, padding mask),
            classification head on the first token
  vit       ViT: Conv2d patch embedding (stride = patch), class token, encoder blocks
  mixer     MLP-Mixer: Conv2d patches, token- and channel-mixing MLPs
  resnet    ResNet-style CNN without batch norm: conv + relu + residual, average
            pool, global average pool, linear
  activations  an MLP through every activation of dist.unary and PReLU
  moe       top-2 mixture of experts per token (torch.topk, torch.gather,
            scatter of the gates)
  unet, audio  2-D / 1-D convolutions, transposed convolutions, resizes
  lstm, gru    nn.LSTM and a bidirectional nn.GRU
  llama     LLaMA-style decoder: hand-written RMSNorm, rotary embeddings,
            a torch.tril causal mask (ONNX Trilu), SwiGLU, no biases
  mobilenet MobileNet-v3-style CNN: depthwise convs, Hardswish,
            squeeze-excitation with Hardsigmoid, no batch norm
  dlrm      DLRM-style recommender: nn.EmbeddingBag (ONNX Loop) fed flat
            indices and fixed offsets, bmm feature interaction
  video3d   3-D CNN on video clips: Conv3d, MaxPool3d, AdaptiveAvgPool3d

Every entry of TRAINING_MODELS knows its constructor, its inputs (names, shapes,
how to draw a batch from a generator), the name of its logits output and its
default loss. Run with Debian's interpreter: /usr/bin/python3.
"""

import math
import os
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import zoo  # noqa: E402  (the building blocks; exits with a clear message without torch)
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

OPSET = 17  # LayerNormalization is one ONNX node from opset 17 on (one dist op to differentiate)


def drop_bias(linear: nn.Linear) -> None:
    """Remove a bias whose gradient is zero in exact arithmetic.

    Such a bias only gets rounding noise as gradient, and AdamW turns noise
    of either sign into steps of about lr, so two correct float32
    implementations end up 1e-3 apart on it (far beyond the checks' 1e-4).
    The attention key bias is one (softmax ignores what it adds, q.b_k, to
    every score of a query), and so is a bias that a LayerNorm over the
    features subtracts right away (the Mixer's token-mixing output bias)."""
    linear.register_parameter("bias", None)


def drop_key_biases(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, zoo.SelfAttention):
            drop_bias(m.k)


class GPT(nn.Module):
    """GPT-style decoder: token + position embeddings, pre-LN blocks with causal
    self-attention (a float lower-triangular mask buffer compared with Equal),
    tanh-approximate GELU MLP, final LayerNorm, LM head (tied or untied)."""

    def __init__(self, vocab=128, seq=16, dim=32, heads=4, layers=2, tied=False):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(seq, dim)
        self.blocks = nn.ModuleList(
            [zoo.PreLNBlock(dim, heads, 4, gelu_approx="tanh") for _ in range(layers)])
        self.ln_f = nn.LayerNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        if tied:
            self.lm_head.weight = self.wte.weight
        # A buffer, not a parameter: it is an initializer of the export, but the
        # loss is not differentiable from it (Equal stops the path).
        self.register_buffer("causal_mask", torch.tril(torch.ones(seq, seq)).view(1, 1, seq, seq))
        self.register_buffer("position_ids", torch.arange(seq).unsqueeze(0), persistent=False)
        for p in self.parameters():                      # GPT-2 init: small logits
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.02)
        zoo.randomize_layernorms(self, 11)
        drop_key_biases(self)

    def forward(self, input_ids):
        t = input_ids.shape[1]
        x = self.wte(input_ids) + self.wpe(self.position_ids[:, :t])
        masked = self.causal_mask[:, :, :t, :t] == 0     # True = may not attend
        for blk in self.blocks:
            x = blk(x, masked)
        return self.lm_head(self.ln_f(x))                 # [B, T, V]


class BERTClassifier(nn.Module):
    """BERT-style encoder: word + position + token-type embeddings, embedding
    LayerNorm, post-LN blocks with a [batch, seq] padding mask, exact GELU,
    tanh pooler on the first token, linear classifier."""

    def __init__(self, vocab=128, seq=16, type_vocab=2, dim=32, heads=4, layers=2, classes=5):
        super().__init__()
        self.word = nn.Embedding(vocab, dim)
        self.position = nn.Embedding(seq, dim)
        self.token_type = nn.Embedding(type_vocab, dim)
        self.emb_ln = nn.LayerNorm(dim, eps=1e-12)
        self.blocks = nn.ModuleList([zoo.PostLNBlock(dim, heads, 4) for _ in range(layers)])
        self.pooler = nn.Linear(dim, dim)
        self.classifier = nn.Linear(dim, classes)
        self.register_buffer("position_ids", torch.arange(seq).unsqueeze(0), persistent=False)
        zoo.randomize_layernorms(self, 21)
        drop_key_biases(self)

    def forward(self, input_ids, token_type_ids, attention_mask):
        t = input_ids.shape[1]
        x = (self.word(input_ids) + self.position(self.position_ids[:, :t])
             + self.token_type(token_type_ids))
        x = self.emb_ln(x)
        masked = (attention_mask == 0)[:, None, None, :]  # [B, 1, 1, T], True = padding
        for blk in self.blocks:
            x = blk(x, masked)
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))  # [B, classes]


class ViT(nn.Module):
    """ViT: Conv2d patch embedding with stride = patch, class token, position
    embeddings, pre-LN encoder blocks, final LayerNorm, head on the class token."""

    def __init__(self, image=16, patch=4, channels=3, dim=32, heads=4, layers=2, classes=10):
        super().__init__()
        n = (image // patch) ** 2
        self.patch_embed = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([zoo.PreLNBlock(dim, heads, 2) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        zoo.randomize_layernorms(self, 31)
        drop_key_biases(self)

    def forward(self, pixel_values):
        x = self.patch_embed(pixel_values).flatten(2).transpose(1, 2)  # [B, N, C]
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


class Mixer(nn.Module):
    """MLP-Mixer: Conv2d patch embedding, blocks of token-mixing MLP (on the
    transposed [B, C, N] tensor) and channel-mixing MLP, LayerNorm, mean over
    tokens, head."""

    def __init__(self, image=16, patch=4, channels=3, dim=32, layers=2, classes=10):
        super().__init__()
        n = (image // patch) ** 2
        self.stem = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)
        self.blocks = nn.Sequential(*[zoo.MixerBlock(n, dim, 32, 2 * dim) for _ in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)
        zoo.randomize_layernorms(self, 41)
        for blk in self.blocks:
            drop_bias(blk.token_mlp.fc2)

    def forward(self, pixel_values):
        x = self.stem(pixel_values).flatten(2).transpose(1, 2)  # [B, N, C]
        return self.head(self.norm(self.blocks(x)).mean(dim=1))


class ResidualBlock(nn.Module):
    """relu(conv2(relu(conv1(x))) + shortcut(x)); a 1x1 strided conv shortcut
    when the shape changes. No normalization at all."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.relu = nn.ReLU()
        self.shortcut = nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        identity = x if self.shortcut is None else self.shortcut(x)
        return self.relu(self.conv2(self.relu(self.conv1(x))) + identity)


class ResNet(nn.Module):
    """ResNet-style CNN without batch norm: conv stem + relu, 2x2 average pool,
    three residual blocks (one with stride 2), global average pool, flatten, linear."""

    def __init__(self, channels=3, width=8, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(channels, width, 3, 1, 1)
        self.relu = nn.ReLU()
        self.pool = nn.AvgPool2d(2)
        self.layer1 = ResidualBlock(width, width)
        self.layer2 = ResidualBlock(width, 2 * width, stride=2)
        self.layer3 = ResidualBlock(2 * width, 2 * width)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, pixel_values):
        x = self.pool(self.relu(self.stem(pixel_values)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.flatten(self.avgpool(x)))


class ActivationMLP(nn.Module):
    """An MLP through every activation that dist-opt imports as a dist.unary
    kind, and PReLU: a linear layer, then one branch per activation (its own
    linear layer and the activation) summed, then the head. Branches keep
    every activation's gradient of the same scale, where a deep chain of
    squashing functions would shrink it."""

    def __init__(self, features=16, dim=32, classes=10):
        super().__init__()
        self.inp = nn.Linear(features, dim)
        self.acts = nn.ModuleList([
            nn.LeakyReLU(0.1), nn.ELU(0.8), nn.SELU(), nn.CELU(1.5), nn.Softplus(),
            nn.Softsign(), nn.Hardsigmoid(), nn.Hardswish(), nn.Mish(), nn.PReLU(dim, 0.2)])
        self.branches = nn.ModuleList([nn.Linear(dim, dim) for _ in self.acts])
        self.head = nn.Linear(dim, classes)

    def forward(self, features):
        h = self.inp(features)
        s = sum(act(lin(h)) for lin, act in zip(self.branches, self.acts))
        return self.head(s)
class MoEClassifier(nn.Module):
    """Per-token classifier through a top-2 mixture of experts: the router's
    top-2 logits (torch.topk) are softmaxed into weights, the two chosen
    experts' outputs are picked with torch.gather and mixed, and the gates
    scattered into zeros over all experts feed the head too, so that the
    gradient runs through TopK, GatherElements and ScatterElements."""

    def __init__(self, features=8, dim=16, experts=4, hidden=24, classes=6):
        super().__init__()
        self.embed = nn.Linear(features, dim)
        self.router = nn.Linear(dim, experts)
        self.w1 = nn.Parameter(torch.randn(experts, dim, hidden) / dim ** 0.5)
        self.w2 = nn.Parameter(torch.randn(experts, hidden, dim) / hidden ** 0.5)
        self.head = nn.Linear(dim, classes)
        self.gate_head = nn.Linear(experts, classes)

    def forward(self, x):                                 # x: [B, T, F]
        h = torch.tanh(self.embed(x))
        logits = self.router(h)
        top_logits, top_experts = torch.topk(logits, 2, dim=-1)
        weights = torch.softmax(top_logits, dim=-1)
        hidden = torch.relu(torch.einsum("btd,edh->bteh", h, self.w1))
        outs = torch.einsum("bteh,ehd->bted", hidden, self.w2)
        index = top_experts.unsqueeze(-1).expand(-1, -1, -1, outs.shape[-1])
        mixed = (weights.unsqueeze(-1) * torch.gather(outs, 2, index)).sum(dim=2)
        gates = torch.zeros_like(logits).scatter(-1, top_experts, weights)
        return self.head(h + mixed) + self.gate_head(gates)


class UNet(nn.Module):
    """A two-level U-Net for per-pixel classes: convolutions and max pooling
    down, a transposed convolution (stride 2) and a bilinear resize
    (F.interpolate, ONNX Resize) up, the skip connection concatenated."""

    def __init__(self, channels=3, width=8, classes=4):
        super().__init__()
        self.down1 = nn.Conv2d(channels, width, 3, padding=1)
        self.down2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.bottom = nn.Conv2d(2 * width, 2 * width, 3, padding=1)
        self.up = nn.ConvTranspose2d(2 * width, width, 2, stride=2)
        self.merge = nn.Conv2d(2 * width, width, 3, padding=1)
        self.head = nn.Conv2d(width, classes, 1)

    def forward(self, pixel_values):                      # [B, 3, 16, 16]
        a = torch.relu(self.down1(pixel_values))           # 16 x 16
        b = torch.relu(self.down2(F.max_pool2d(a, 2)))     # 8 x 8
        c = torch.relu(self.bottom(F.max_pool2d(b, 2)))    # 4 x 4
        c = F.interpolate(c, scale_factor=2.0, mode="bilinear", align_corners=False)
        up = torch.relu(self.up(c + b))                    # 16 x 16
        m = torch.relu(self.merge(torch.cat([up, a], dim=1)))
        return self.head(m).permute(0, 2, 3, 1)            # [B, 16, 16, classes]


class AudioConv1d(nn.Module):
    """A 1-D convolutional model over a 2-channel signal: convolutions (one
    grouped, one dilated), max pooling, a transposed convolution and a
    nearest-neighbour upsampling back to the input's length, classes per
    time step."""

    def __init__(self, channels=2, width=8, classes=5):
        super().__init__()
        self.conv1 = nn.Conv1d(channels, width, 5, padding=2)
        self.conv2 = nn.Conv1d(width, 2 * width, 3, padding=2, dilation=2, groups=2)
        self.up = nn.ConvTranspose1d(2 * width, width, 4, stride=2, padding=1)
        self.head = nn.Linear(width, classes)

    def forward(self, signal):                             # [B, 2, 32]
        h = F.max_pool1d(torch.relu(self.conv1(signal)), 2)   # 16
        h = F.gelu(self.conv2(h))                          # 16
        h = torch.tanh(self.up(F.avg_pool1d(h, 2)))        # 8 -> 16
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")  # 32
        return self.head(h.transpose(1, 2))                # [B, 32, classes]


class LSTMLanguageModel(nn.Module):
    """Next-token logits from an embedding, a one-layer nn.LSTM (batch
    first; ONNX LSTM) and a linear head."""

    def __init__(self, vocab=64, dim=16, hidden=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, input_ids):                          # [B, T]
        out, _ = self.lstm(self.embed(input_ids))
        return self.head(out)                               # [B, T, vocab]


class GRUClassifier(nn.Module):
    """A sequence classifier over a bidirectional nn.GRU (ONNX GRU with
    direction bidirectional): the final states of both directions, then a
    linear head."""

    def __init__(self, features=8, hidden=12, classes=5):
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, classes)

    def forward(self, x):                                  # [B, T, F]
        _, h = self.gru(x)                                 # [2, B, H]
        return self.head(torch.cat([h[0], h[1]], dim=-1))  # [B, classes]


class RMSNorm(nn.Module):
    """LLaMA's RMSNorm written by hand: x * rsqrt(mean(x^2) + eps) * weight
    (ONNX Pow, ReduceMean, Add, Sqrt, Reciprocal, Mul; no LayerNormalization)."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    """[x1, x2] -> [-x2, x1] over the last dim (two Slices, a Neg, a Concat)."""
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class LlamaAttention(nn.Module):
    """Bias-free q/k/v/o projections, rotary position embeddings on q and k,
    a causal mask made at run time by torch.tril of ones_like(scores) (ONNX
    Trilu), softmax."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim, bias=False)
        self.o = nn.Linear(dim, dim, bias=False)

    def _split(self, x):
        b, t, _ = x.shape
        return x.reshape(b, t, self.heads, self.head_dim).transpose(1, 2)  # [B, H, T, D]

    def forward(self, x, cos, sin):
        b, t, c = x.shape
        q, k, v = self._split(self.q(x)), self._split(self.k(x)), self._split(self.v(x))
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        causal = torch.tril(torch.ones_like(scores))                 # Trilu, upper = 0
        scores = scores.masked_fill(causal == 0, torch.finfo(scores.dtype).min)
        y = torch.matmul(torch.softmax(scores, dim=-1), v)
        return self.o(y.transpose(1, 2).reshape(b, t, c))


class LlamaBlock(nn.Module):
    """x + attn(rmsnorm(x)); x + down(silu(gate(h)) * up(h)), h = rmsnorm(x)."""

    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.attn_norm = RMSNorm(dim)
        self.attn = LlamaAttention(dim, heads)
        self.mlp_norm = RMSNorm(dim)
        self.gate = nn.Linear(dim, hidden, bias=False)
        self.up = nn.Linear(dim, hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x, cos, sin):
        x = x + self.attn(self.attn_norm(x), cos, sin)
        h = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    """LLaMA-style decoder: token embedding (no position embedding), blocks of
    RMSNorm + rotary causal self-attention + SwiGLU MLP, a final RMSNorm and an
    untied bias-free LM head. The rotary cos/sin tables are buffers."""

    def __init__(self, vocab=128, seq=16, dim=32, heads=4, layers=2, hidden=64, base=10000.0):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList([LlamaBlock(dim, heads, hidden) for _ in range(layers)])
        self.norm = RMSNorm(dim)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        head_dim = dim // heads
        inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2).float() / head_dim)
        angles = torch.outer(torch.arange(seq).float(), inv_freq)       # [T, D/2]
        angles = torch.cat([angles, angles], dim=-1)                    # [T, D]
        self.register_buffer("rope_cos", angles.cos(), persistent=False)
        self.register_buffer("rope_sin", angles.sin(), persistent=False)
        for p in self.parameters():                       # small logits, as GPT's init
            if p.dim() >= 2:
                nn.init.normal_(p, 0.0, 0.05)
        # Distinct norm scales: equal initializers would be merged by the exporter.
        g = torch.Generator().manual_seed(51)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, RMSNorm):
                    m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=g))

    def forward(self, input_ids):
        t = input_ids.shape[1]
        cos, sin = self.rope_cos[:t], self.rope_sin[:t]
        x = self.embed(input_ids)
        for blk in self.blocks:
            x = blk(x, cos, sin)
        return self.lm_head(self.norm(x))                   # [B, T, V]


class InvertedResidual(nn.Module):
    """MobileNet-v3 block without batch norm: 1x1 expansion conv + activation,
    depthwise 3x3 conv (groups = channels, stride 1 or 2) + activation, an
    optional squeeze-excitation, 1x1 linear projection; a residual when the
    shape is kept."""

    def __init__(self, cin, hidden, cout, stride, act, se=False):
        super().__init__()
        self.expand = nn.Conv2d(cin, hidden, 1)
        self.depthwise = nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden)
        self.act = act
        self.se = SqueezeExcite(hidden, max(hidden // 4, 4)) if se else None
        self.project = nn.Conv2d(hidden, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = self.act(self.depthwise(self.act(self.expand(x))))
        if self.se is not None:
            h = self.se(h)
        h = self.project(h)
        return x + h if self.residual else h


class SqueezeExcite(nn.Module):
    """x * hardsigmoid(fc2(relu(fc1(avgpool(x))))) with 1x1 convolutions."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x):
        s = F.hardsigmoid(self.fc2(torch.relu(self.fc1(self.pool(x)))))
        return x * s


class MobileNet(nn.Module):
    """MobileNet-v3-style CNN without batch norm on 3x16x16 images: a stride-2
    conv stem + Hardswish, three inverted residual blocks (depthwise convs,
    ReLU and Hardswish, one squeeze-excitation with Hardsigmoid, one
    residual), a 1x1 conv + Hardswish, global average pool, linear head."""

    def __init__(self, channels=3, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(channels, 8, 3, 2, 1)                      # 8 x 8
        self.hswish = nn.Hardswish()
        self.blocks = nn.Sequential(
            InvertedResidual(8, 16, 8, 1, nn.ReLU()),                    # residual
            InvertedResidual(8, 24, 12, 2, nn.Hardswish(), se=True),     # 4 x 4, SE
            InvertedResidual(12, 32, 12, 1, nn.Hardswish()))             # residual
        self.last = nn.Conv2d(12, 24, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.head = nn.Linear(24, classes)

    def forward(self, pixel_values):
        x = self.hswish(self.stem(pixel_values))
        x = self.hswish(self.last(self.blocks(x)))
        return self.head(self.flatten(self.pool(x)))


class DLRM(nn.Module):
    """DLRM-style recommender: dense features through a bottom MLP, one
    nn.EmbeddingBag per sparse feature (flat int64 indices and int64 offsets;
    sum, sum and mean; torch exports each as an ONNX Loop over the bags), the
    pairwise dot products of the stacked features (torch.bmm with the
    transpose, the upper triangle picked by a constant index list), a top MLP
    on the dense vector and the interactions."""

    def __init__(self, dense=8, dim=8, rows=(20, 16, 12), modes=("sum", "sum", "mean"),
                 classes=2):
        super().__init__()
        self.bottom = nn.Sequential(nn.Linear(dense, 16), nn.ReLU(), nn.Linear(16, dim),
                                    nn.ReLU())
        self.tables = nn.ModuleList([nn.EmbeddingBag(n, dim, mode=m)
                                     for n, m in zip(rows, modes)])
        for t in self.tables:                            # DLRM's init: U(-1/sqrt(n), 1/sqrt(n))
            nn.init.uniform_(t.weight, -t.num_embeddings ** -0.5, t.num_embeddings ** -0.5)
        f = len(rows) + 1
        li, lj = zip(*[(i, j) for i in range(f) for j in range(i + 1, f)])
        self.register_buffer("pair_i", torch.tensor(li), persistent=False)
        self.register_buffer("pair_j", torch.tensor(lj), persistent=False)
        self.top = nn.Sequential(nn.Linear(dim + len(li), 16), nn.ReLU(),
                                 nn.Linear(16, classes))

    def forward(self, dense, *sparse):                   # sparse: indices_k, offsets_k, ...
        x = self.bottom(dense)                           # [B, d]
        feats = [x] + [t(sparse[2 * k], sparse[2 * k + 1]) for k, t in enumerate(self.tables)]
        t = torch.stack(feats, dim=1)                    # [B, F, d]
        z = torch.bmm(t, t.transpose(1, 2))              # [B, F, F]
        pairs = z[:, self.pair_i, self.pair_j]           # [B, F (F - 1) / 2]
        return self.top(torch.cat([x, pairs], dim=1))    # [B, classes]


class Video3D(nn.Module):
    """A 3-D convolutional video classifier on [B, 3, 4, 8, 8] clips: Conv3d
    (kernel 3, padding 1) + ReLU, MaxPool3d over (1, 2, 2), a temporal Conv3d
    (kernel (3, 1, 1)) and a spatially strided one (stride (1, 2, 2)) + ReLU,
    global average pool (AdaptiveAvgPool3d(1)), flatten, linear."""

    def __init__(self, channels=3, width=8, classes=5):
        super().__init__()
        self.conv1 = nn.Conv3d(channels, width, 3, padding=1)
        self.pool = nn.MaxPool3d((1, 2, 2))
        self.temporal = nn.Conv3d(width, width, (3, 1, 1), padding=(1, 0, 0))
        self.conv2 = nn.Conv3d(width, 2 * width, 3, stride=(1, 2, 2), padding=1)
        self.avgpool = nn.AdaptiveAvgPool3d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, clips):                            # [B, 3, 4, 8, 8]
        x = self.pool(torch.relu(self.conv1(clips)))     # [B, w, 4, 4, 4]
        x = torch.relu(self.conv2(torch.relu(self.temporal(x))))  # [B, 2w, 4, 2, 2]
        return self.fc(self.flatten(self.avgpool(x)))


# --------------------------------------------------------------------------- #
# Registry
# --------------------------------------------------------------------------- #

BATCH = 4


@dataclass
class InputSpec:
    name: str
    shape: Tuple[int, ...]
    dtype: torch.dtype
    # The same value in every batch (make_batch draws no random numbers for
    # it): data that decides sizes, such as DLRM's bag offsets. The drivers
    # give it to dist-run like any input, or with --fixed-inputs compile to
    # dist-opt as a compile-time value (--value NAME=FILE).
    fixed: bool = False


@dataclass
class TrainingModel:
    name: str
    description: str
    ctor: Callable[[], nn.Module]
    inputs: List[InputSpec]
    make_batch: Callable[[torch.Generator], Tuple[torch.Tensor, ...]]
    output: str                     # the logits output, [..., C]
    classes: int                    # C: labels are int64 in [0, C)
    seed: int

    def build(self) -> nn.Module:
        """The model with its deterministic initial weights, in eval mode."""
        torch.manual_seed(self.seed)
        model = self.ctor()
        model.eval()
        return model

    def logits_shape(self, model: nn.Module) -> Tuple[int, ...]:
        with torch.no_grad():
            return tuple(model(*self.make_batch(torch.Generator().manual_seed(0))).shape)


def _tokens(g, vocab=128, seq=16):
    return torch.randint(0, vocab, (BATCH, seq), generator=g, dtype=torch.int64)


def _bert_batch(g, vocab=128, seq=16):
    ids = _tokens(g, vocab, seq)
    split = int(torch.randint(2, seq - 2, (1,), generator=g))
    types = (torch.arange(seq) >= split).to(torch.int64).expand(BATCH, seq).contiguous()
    lengths = torch.randint(seq // 2, seq + 1, (BATCH,), generator=g)
    lengths[0] = seq                                   # at least one unpadded sequence
    mask = (torch.arange(seq)[None, :] < lengths[:, None]).to(torch.int64)
    return ids, types, mask


def _image(g, size=16):
    return (torch.randn(BATCH, 3, size, size, generator=g),)


def _features(g, features=16):
    return (2 * torch.randn(BATCH, features, generator=g),)


# DLRM's sparse features: 12 indices per table and one offset per bag (B bags
# per table). The offsets are the same in every batch; the bags differ in
# size, and the first table has an empty bag (its sum is zeros).
DLRM_ROWS = (20, 16, 12)
DLRM_INDICES = 12
DLRM_OFFSETS = ((0, 3, 3, 7), (0, 5, 6, 10), (0, 2, 8, 9))


def _dlrm_batch(g):
    batch = [torch.randn(BATCH, 8, generator=g)]
    for rows, offsets in zip(DLRM_ROWS, DLRM_OFFSETS):
        batch.append(torch.randint(0, rows, (DLRM_INDICES,), generator=g, dtype=torch.int64))
        batch.append(torch.tensor(offsets, dtype=torch.int64))
    return tuple(batch)


_DLRM_INPUTS = [InputSpec("dense", (BATCH, 8), torch.float32)] + [
    spec for k in range(len(DLRM_ROWS)) for spec in (
        InputSpec(f"indices_{k}", (DLRM_INDICES,), torch.int64),
        InputSpec(f"offsets_{k}", (BATCH,), torch.int64, fixed=True))]

_TOKENS = [InputSpec("input_ids", (BATCH, 16), torch.int64)]
_IMAGE = [InputSpec("pixel_values", (BATCH, 3, 16, 16), torch.float32)]

TRAINING_MODELS: Dict[str, TrainingModel] = {m.name: m for m in [
    TrainingModel("gpt", "GPT decoder: vocab 128, seq 16, d=32, 4 heads, 2 pre-LN blocks, "
                  "causal mask buffer, tanh GELU, untied LM head", lambda: GPT(tied=False),
                  _TOKENS, lambda g: (_tokens(g),), "logits", 128, seed=101),
    TrainingModel("gpt_tied", "the GPT decoder with the LM head tied to the token embedding",
                  lambda: GPT(tied=True), _TOKENS, lambda g: (_tokens(g),), "logits", 128,
                  seed=102),
    TrainingModel("gpt_vocab", "GPT decoder with a 2048-token vocabulary: seq 16, d=32, "
                  "4 heads, 1 pre-LN block, untied LM head (tensor parallelism splits its "
                  "logits by vocabulary)",
                  lambda: GPT(vocab=2048, layers=1, tied=False),
                  _TOKENS, lambda g: (_tokens(g, vocab=2048),), "logits", 2048, seed=107),
    TrainingModel("bert", "BERT encoder: vocab 128, seq 16, d=32, 4 heads, 2 post-LN blocks, "
                  "token types, padding mask, tanh pooler, 5 classes", BERTClassifier,
                  [InputSpec("input_ids", (BATCH, 16), torch.int64),
                   InputSpec("token_type_ids", (BATCH, 16), torch.int64),
                   InputSpec("attention_mask", (BATCH, 16), torch.int64)],
                  _bert_batch, "logits", 5, seed=103),
    TrainingModel("vit", "ViT: 16x16 image, 4x4 conv patches, class token, 2 pre-LN blocks, "
                  "d=32, 10 classes", ViT, _IMAGE, _image, "logits", 10, seed=104),
    TrainingModel("mixer", "MLP-Mixer: 16x16 image, 4x4 conv patches, 2 mixer blocks, d=32, "
                  "10 classes", Mixer, _IMAGE, _image, "logits", 10, seed=105),
    TrainingModel("resnet", "ResNet without normalization: conv stem, 2x2 average pool, 3 "
                  "residual blocks (one stride 2), global average pool, linear, 10 classes",
                  ResNet, _IMAGE, _image, "logits", 10, seed=106),
    TrainingModel("activations", "MLP with one branch per activation: LeakyReLU, ELU, SELU, "
                  "CELU, Softplus, Softsign, Hardsigmoid, Hardswish, Mish, PReLU; 10 classes",
                  ActivationMLP, [InputSpec("features", (BATCH, 16), torch.float32)],
                  _features, "logits", 10, seed=108),
    TrainingModel("moe", "top-2 mixture of experts per token: 8 tokens, d=16, 4 experts, "
                  "torch.topk router, torch.gather of the chosen experts, gates "
                  "scattered into zeros, 6 classes", MoEClassifier,
                  [InputSpec("x", (BATCH, 8, 8), torch.float32)],
                  lambda g: (torch.randn(BATCH, 8, 8, generator=g),), "logits", 6,
                  seed=108),
    TrainingModel("unet", "two-level U-Net on 3x16x16 images: convolutions, max pooling, a "
                  "stride-2 ConvTranspose, a bilinear Resize and a skip concat; 4 classes "
                  "per pixel", UNet, _IMAGE, _image, "logits", 4, seed=109),
    TrainingModel("audio", "1-D convolutions (grouped, dilated), max and average pooling, "
                  "a ConvTranspose1d and a nearest Resize over a 2x32 signal; 5 classes "
                  "per step", AudioConv1d,
                  [InputSpec("signal", (BATCH, 2, 32), torch.float32)],
                  lambda g: (torch.randn(BATCH, 2, 32, generator=g),), "logits", 5,
                  seed=110),
    TrainingModel("lstm", "LSTM language model: embedding 64x16, one nn.LSTM layer of 24 "
                  "over 12 tokens (ONNX LSTM, unrolled at import), linear head",
                  LSTMLanguageModel, [InputSpec("input_ids", (BATCH, 12), torch.int64)],
                  lambda g: (_tokens(g, vocab=64, seq=12),), "logits", 64, seed=111),
    TrainingModel("gru", "bidirectional nn.GRU of 12 over 10 steps of 8 features (ONNX GRU), "
                  "both final states to a linear head; 5 classes", GRUClassifier,
                  [InputSpec("x", (BATCH, 10, 8), torch.float32)],
                  lambda g: (torch.randn(BATCH, 10, 8, generator=g),), "logits", 5,
                  seed=112),
    TrainingModel("llama", "LLaMA decoder: vocab 128, seq 16, d=32, 4 heads, 2 blocks, "
                  "hand-written RMSNorm, rotary embeddings (cos/sin buffers, rotate_half by "
                  "slices, Neg and Concat), causal mask by torch.tril of ones_like(scores) "
                  "(ONNX Trilu), SwiGLU MLP of 64, bias-free linears, untied LM head",
                  Llama, _TOKENS, lambda g: (_tokens(g),), "logits", 128, seed=113),
    TrainingModel("mobilenet", "MobileNet-v3-style CNN without batch norm on 3x16x16 "
                  "images: stride-2 conv stem + Hardswish, 3 inverted residual blocks "
                  "(1x1 convs, depthwise 3x3 convs, ReLU/Hardswish, one squeeze-excitation "
                  "with Hardsigmoid), global average pool, linear; 10 classes",
                  MobileNet, _IMAGE, _image, "logits", 10, seed=114),
    TrainingModel("dlrm", "DLRM recommender: 8 dense features through a bottom MLP, 3 "
                  "nn.EmbeddingBag tables (sum, sum, mean; 12 int64 indices and 4 fixed "
                  "int64 offsets each, bags of different sizes, one empty; ONNX Loop), "
                  "pairwise dot products by torch.bmm, upper triangle by a constant index "
                  "list, top MLP; 2 classes", DLRM, _DLRM_INPUTS, _dlrm_batch, "logits", 2,
                  seed=115),
    TrainingModel("video3d", "3-D CNN video classifier on [4, 3, 4, 8, 8] clips: Conv3d "
                  "(kernel 3, padding 1), ReLU, MaxPool3d (1, 2, 2), a (3, 1, 1) Conv3d and "
                  "a stride-(1, 2, 2) Conv3d, ReLU, AdaptiveAvgPool3d(1), flatten, linear; "
                  "5 classes", Video3D, [InputSpec("clips", (BATCH, 3, 4, 8, 8), torch.float32)],
                  lambda g: (torch.randn(BATCH, 3, 4, 8, 8, generator=g),), "logits", 5,
                  seed=116),
]}


def num_parameters(model: nn.Module) -> int:
    """Unique parameters (tied weights counted once)."""
    return sum(p.numel() for p in model.parameters())
