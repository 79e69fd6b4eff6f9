"""The specification: the four papers, the settings they report, and every claim this book tests
(its id, its chapter, the claim in one line, the paper's value and the numbers behind it).

This module is the one home of that text: the ledger's rows take the claim and the paper's value
from here, and `markdown()` writes the book page "The claims and the papers' settings"
(book/chapters/_papers.md, included by book/papers.md). Settings are as the papers (or, where
named, the authors' public code) report them; where the book departs from them, the chapter's
settings table says so.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    id: str
    title: str
    source: str         # where it was published
    code: str           # the authors' public code, or how the settings are known without it
    settings: tuple     # (what, value) pairs, as the paper (or its code) reports them


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    chapter: str
    text: str           # the claim in one line
    paper_value: str    # the paper's number or pattern, short
    evidence: str = ""  # the paper's own numbers behind it


PAPERS = {p.id: p for p in (
    Paper("P1", "A Systematic Empirical Study of Grokking", "arXiv 2603.25009 (2026)",
          "no public code; settings from the paper's tables",
          (("task", "(a+b) mod 97, one fixed 20% / 80% split (1,882 / 7,527 pairs), full batch"),
           ("thresholds", "T_train, T_grok: first evaluation with train, test accuracy >= 99%"),
           ("MLP", "summed shared token embedding, d GELU layers of width w, linear head; baseline "
                   "w = 256, d = 2; SGD momentum 0.9, lr 1e-2, coupled weight decay 2e-3, no clipping"),
           ("residual MLP", "8 pre-LayerNorm blocks h + 0.5 FC2(GELU(FC1(LN h))), w = 512, grad clip 1.0"),
           ("Transformer", "1 encoder layer, d = 512, 4 heads, pre-norm, FFN 2048 GELU, learned token and "
                           "position embeddings, mean over the two positions; AdamW lr 1e-3, wd 1.0, clip 1.0"),
           ("budget, seeds", "400k-800k steps; 3-5 seeds; step values tabulated on a 2,000-step grid"))),
    Paper("P2", "Grokking Beyond the Euclidean Norm of Model Parameters", "arXiv 2506.05718 (ICML 2025)",
          "public code: Tikquuss/grokking_beyong_l2_norm",
          (("MLP", "(a+b) mod 97, train fraction 0.4; per-operand one-hot encoders to 64, their 8x8 "
                   "matrix product, Linear 64-64, ReLU, Linear 64-97, no biases (the code's model)"),
           ("MLP training", "Adam, no weight decay; loss CE + beta times the l1, l2 or nuclear norm of every "
                            "weight matrix; lr in {1e-3, 1e-2, 1e-1}; batch 2048; about 20k steps; one seed"),
           ("MLP init (code)", "hidden and output layers N(0, 1/fan_out); float32 loss; no beta = 0 control"),
           ("sparse recovery", "n = 100, s = 5, N = 30; subgradient descent on 1/2 |Xa - y|^2 + beta |a|_1, "
                               "alpha 0.1, beta 1e-5, init 1e-6"),
           ("matrix completion", "10x10, rank 2, |W*|_F = 10, N = 70-80 observed entries, alpha 0.1, "
                                 "beta 1e-4, init 1e-6 I; the alpha-beta figure spans about 7 decades"),
           ("depth", "a = A1 * ... * AL elementwise, beta = 0, L in {1, 2, 3, 4}"),
           ("data selection", "matrix completion, N = 70, alpha 1, beta 1e-5; the first tau N entries "
                              "the most coherent, tau in {0, 0.1, ..., 1}"))),
    Paper("P3", "Exploring Grokking: Experimental and Mechanistic Investigations", "arXiv 2412.10898",
          "no code of its own: it ran openai/grok and the TransformerLens grokking demo",
          (("Transformer", "1 layer, d_model 128, 4 heads, d_mlp 512, ReLU, no LayerNorm, input [a, b, =], "
                           "read out at the last position"),
           ("training", "AdamW lr 1e-3, wd 1.0, betas (0.9, 0.98), full batch, float64 loss; p = 97"),
           ("MLP, LSTM", "without weight decay: 2-layer MLP width 512 ReLU (Adam lr 1e-3); LSTM hidden 20 "
                         "(Adam lr 1e-2), 100k steps"),
           ("optimizers", "1,800 updates; Adam lr 3e-4 / 1e-3 / 3e-3, with update or weight noise, "
                          "minibatch 128; AdamW wd 1, full batch or minibatch 128; 10-step warmup"))),
    Paper("P4", "Deep Grokking: Would Deep Neural Networks Generalize Better?", "arXiv 2405.19454",
          "public code: Olivia-fsm/Deep-Grokking",
          (("data", "MNIST, the first N training images (N in {2000, 5000, 7000}), all 10k test images"),
           ("model", "MLPs of depth 4, 8, 12 (Linear layers), width 400, ReLU; default init with every "
                     "parameter scaled by 8"),
           ("training", "AdamW lr 1e-3, weight decay 0.01 by default, MSE on one-hot targets, batch 200, "
                        "1e5 steps, float64"),
           ("feature rank", "numerical rank of the covariance of each Linear layer's outputs on the test set; "
                            "a tunnel layer has rank < 300 of 400"))),
)}

CLAIMS = {c.id: c for c in (
    Claim("P1-canonical", "P1", "p1_depth",
          "depth-2 MLP (seed 0) memorises by ~1-2k steps and groks at ~33-34k",
          "T_grok ~ 33-34k, final test 99.35%", "plateau near 19.9% test before the jump"),
    Claim("P1-depth", "P1", "p1_depth",
          "depth is non-monotonic: plain d=2 groks 4/5, plain d=4 0/5, residual d=8 3/5", "4/5, 0/5, 3/5 grok",
          "delays d=2: 32k, 20k, 26k, DNF, 210k; residual d=8: mean 33,333 (sd 12,858)"),
    Claim("P1-arch", "P1", "p1_arch",
          "Transformer vs depth-4 MLP delay ratio ~1.11x under matched tuning", "ratio 1.11x",
          "delay Transformer 50,800 (sd 22,565), MLP 45,600 (sd 5,550); 10/10 grok"),
    Claim("P1-act", "P1", "p1_activation",
          "GELU groks 4.32x faster than ReLU in regime B; ranking reverses in regime A", "ReLU/GELU 4.32x",
          "regime B (lr 3e-2, wd 5e-4, w 512): GELU 5/5 45,600, ReLU 5/5 196,800, Tanh 2/5; "
          "regime A (lr 1e-2, wd 2e-3, w 256): GELU 0/5, ReLU 2/5, Tanh 3/5"),
    Claim("P1-wd", "P1", "p1_weight_decay",
          "grokking only inside a bounded weight-decay window for both MLP and Transformer",
          "MLP best 1e-3, Transformer best 5",
          "MLP: 1e-5 0/3, 5e-5 1/3, 1e-4 3/3, 5e-4 3/3, 1e-3 3/3 (best), 2e-3 0/3, 5e-3 0/3; "
          "Transformer: 0.01 0/3, 0.1 to 5 all 3/3 (5 best)"),
    Claim("P1-norm", "P1", "p1_mechanism",
          "w=512 models grok at a similar parameter RMS (0.0219, CV 14.5%)", "RMS 0.0219 +- 0.0032",
          "ReLU and GELU grok at about the same RMS, ReLU ~6.9x later"),
    Claim("P1-fourier", "P1", "p1_mechanism",
          "top-5 Fourier energy share of the embedding: MLP ~75%, Transformer 98.5%", "74.7% / 75.6% / 98.5%",
          "MLP-GELU 74.7%, MLP-ReLU 75.6%, Transformer 98.5%"),
    Claim("P1-mul", "P1", "p1_mechanism",
          "on multiplication GELU groks ~3.8x faster than ReLU", "ReLU/GELU 3.82x",
          "(a*b) mod 97 without 0: GELU 24,400 (sd 3,578), ReLU 93,200"),
    Claim("P2-l1", "P2", "p2_norms",
          "small l1 regularisation induces grokking without weight decay", "grokking with l1, wd=0",
          "in the MLP and in sparse recovery; smaller alpha*beta, longer delay"),
    Claim("P2-nuc", "P2", "p2_norms",
          "small nuclear-norm regularisation induces grokking without weight decay",
          "grokking with nuclear norm, wd=0", "in the MLP and in matrix completion"),
    Claim("P2-scaling", "P2", "p2_linear",
          "generalisation delay scales as 1/(alpha*beta): slope of log(T2-T1) vs log(alpha*beta) ~ -1", "slope -1"),
    Claim("P2-l2proxy", "P2", "p2_norms",
          "under l1 the l2 norm grows while the model generalises", "l2 grows, l1 falls"),
    Claim("P2-depth", "P2", "p2_linear",
          "depth (a = A1*...*AL) lets the model generalise without regularisation; delay vanishes for L>2",
          "delay small at L=2, none at L>2"),
    Claim("P2-select", "P2", "p2_selection",
          "data selection alone changes grokking (coherent samples speed matrix completion)",
          "samples and time fall as tau -> 1", "in sparse recovery, higher coherence delays generalisation"),
    Claim("P3-frac", "P3", "p3_fraction",
          "grokking is most pronounced near alpha ~ 0.5 and absent at high alpha", "peak delay at alpha ~ 0.5",
          "below ~30-40% no generalisation in the budget; at 75-90% test tracks train"),
    Claim("P3-arch", "P3", "p3_architectures",
          "without weight decay the MLP's test accuracy rises with its train accuracy (no grokking) and the LSTM "
          "never memorises, its test well above chance", "MLP train and test rise together; LSTM train ~0.9, test ~0.65",
          "LSTM after 100k steps: train ~0.9, test ~0.65"),
    Claim("P3-opt", "P3", "p3_optimizers",
          "AdamW generalises best within 1,800 updates; train accuracy reached in ~100-200 updates", "AdamW best"),
    Claim("P4-depth", "P4", "p4_deep",
          "deeper MLPs grok more: the rise of train and test accuracy is more delayed (N=5000, depth 4 -> 12)",
          "later rise with depth"),
    Claim("P4-multistage", "P4", "p4_deep",
          "at N=7000 depths 8 and 12 show two-stage generalisation, depth 4 none", "two surges at depth 8, 12"),
    Claim("P4-rank", "P4", "p4_rank",
          "test accuracy rises as feature rank falls; two-stage runs show rank double descent",
          "rank falls at the rise"),
    Claim("P4-tunnel", "P4", "p4_rank",
          "tunnel lengths 1/3/6 (N=5000) and 1/5/6 (N=7000) for depths 4/8/12", "1/3/6 and 1/5/6"),
    Claim("P4-wd", "P4", "p4_rank",
          "weight decay 0.005 / 0.01 / 0.05: no grokking / grokking / two-stage", "0.01 groks, 0.05 two-stage",
          "N=2000: 0.005 does not generalise; N=5000: 0.005 generalises without grokking"),
    Claim("P4-norm", "P4", "p4_rank",
          "feature rank predicts generalisation better than weight norm", "rank better than norm",
          "weight-norm curves overlap across N; the second-to-last layer's rank separates them"),
)}


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("*", r"\*")


def markdown() -> str:
    """The page body: per paper, its source and settings, then its claims with the paper's values
    and the chapter that tests each."""
    out = []
    for p in PAPERS.values():
        out += [f"## {p.id}: {p.title}", "", f"{p.source}. Code: {p.code}.", "",
                "| setting | as reported |", "|---|---|"]
        out += [f"| {_cell(k)} | {_cell(v)} |" for k, v in p.settings]
        out += ["", "| claim | tested in | the claim | paper's value |", "|---|---|---|---|"]
        for c in CLAIMS.values():
            if c.paper == p.id:
                value = c.paper_value + (f" ({c.evidence})" if c.evidence else "")
                out.append(f"| {c.id} | `{c.chapter}` | {_cell(c.text)} | {_cell(value)} |")
        out.append("")
    return "\n".join(out)
