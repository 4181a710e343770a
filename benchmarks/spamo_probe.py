"""How much of WLASL100's signs SpaMo's frozen features carry: a linear probe.

    python benchmarks/spamo_probe.py [--frames 16]

On the cached SpaMo features of WLASL100 (``signstudio datasets features wlasl DIR --spamo``):
each clip's spatial and motion features are mean-pooled over time and concatenated, and a
softmax classifier (AdamW, weight decay, 300 full-batch steps, one thread) is fitted on train.
Prints val and test top-1 (percent) for spatial only, motion only and both: the ceiling a model
that only pools the features would reach, beside which SpaMo's exact-match top-1 can be read.
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=16)
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from signstudio.data.spamo_features import SpaMoFeatureSettings, load_spamo_features
    from signstudio.data.video_features import cache_folder
    from signstudio.data.wlasl import load_wlasl_folder

    splits, _ = load_wlasl_folder("wlasl100")
    cache = cache_folder(SpaMoFeatureSettings(frames=args.frames))
    data = {}
    for split, clips in splits.items():
        rows = [(load_spamo_features(cache, c.video_id), c.label) for c in clips if (cache / f"{c.video_id}.npz").is_file()]
        data[split] = ([f for f, _ in rows], np.array([y for _, y in rows]))
    for name, keys in (("spatial", ("spatial",)), ("motion", ("motion",)), ("spatial + motion", ("spatial", "motion"))):
        x = {s: torch.tensor(np.stack([np.concatenate([f[k].astype(np.float32).mean(0) for k in keys]) for f in fs]))
             for s, (fs, _) in data.items()}
        mean, std = x["train"].mean(0), x["train"].std(0) + 1e-6
        x = {s: (v - mean) / std for s, v in x.items()}
        y = {s: torch.tensor(ys) for s, (_, ys) in data.items()}
        torch.manual_seed(0)
        probe = torch.nn.Linear(x["train"].shape[1], 100)
        opt = torch.optim.AdamW(probe.parameters(), lr=1e-3, weight_decay=0.1)
        for _ in range(300):
            loss = torch.nn.functional.cross_entropy(probe(x["train"]), y["train"])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            acc = {s: float((probe(x[s]).argmax(1) == y[s]).float().mean() * 100) for s in ("dev", "test")}
        print(f"{name:18s} val top-1 {acc['dev']:5.1f}   test top-1 {acc['test']:5.1f}   "
              f"(n = {len(y['train'])} / {len(y['dev'])} / {len(y['test'])})")


if __name__ == "__main__":
    main()
