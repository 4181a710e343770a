"""Frozen visual encoders of SpaMo (Hwang et al. 2024, arXiv 2408.10593, Sec. 3.1): a spatial
encoder that turns a frame into one vector and a motion encoder that turns a short clip into one.

- :class:`BackboneEncoder`: the offline default, the ImageNet CNN of
  :mod:`signstudio.models.backbones` (EfficientNet-Lite0) with its 7x7 map averaged, run in
  onnxruntime from its ONNX export (6.5x faster than PyTorch on this CPU, 112 vs 17 images/s at
  224x224 on two threads) or in PyTorch;
- :class:`ClipEncoder`: a local Hugging Face ``CLIPVisionModel`` folder (the paper's CLIP ViT-L/14),
  its pooled CLS output;
- :class:`VideoMAEEncoder`: a local ``VideoMAEModel`` folder (the paper's motion encoder), the mean
  of its last hidden states over a 16-frame clip.

Images are ``(N, S, S, 3)`` uint8 RGB squares; vectors ``(N, D)`` float32. Nothing downloads: the
Hugging Face folders load with ``local_files_only``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signstudio.errors import ModelError

#: CLIP's and VideoMAE's per-channel mean and std of 0-1 RGB input.
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _scaled(images: np.ndarray, size: int, mean, std):
    """``(N, S, S, 3)`` uint8 -> ``(N, 3, size, size)`` float32 torch tensor, normalised."""
    import cv2
    import torch

    if images.shape[1] != size:
        images = np.stack([cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images])
    x = torch.from_numpy(np.ascontiguousarray(images)).float().div(255).permute(0, 3, 1, 2)
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def _hf_folder(path: str | Path, what: str) -> Path:
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise ModelError(f"{folder}: not a Hugging Face {what} folder (no config.json)")
    return folder


class BackboneEncoder:
    """The frozen ImageNet CNN, its ``(C, 7, 7)`` map averaged to ``(C,)`` per 224x224 image.

    Args:
        name: :data:`signstudio.models.backbones.BACKBONES` name.
        weights: a user's weights file ('' for the default).
        onnx_path: the backbone's ONNX export (``images (N, 224, 224, 3) uint8 -> maps``), run in
            onnxruntime; None: PyTorch.
        threads: intra-op threads.

    Raises:
        ModelError: the backbone's weights are missing.
    """

    size = 224

    def __init__(self, name: str = "efficientnet-lite0", weights: str = "", onnx_path: Path | None = None,
                 threads: int = 1) -> None:
        from signstudio.models.backbones import CHANNELS

        self.name, self.weights, self.dim = name, weights, CHANNELS[name]
        self._session = self._torch = None
        if onnx_path is not None:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.log_severity_level = 3
            self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        else:
            import torch

            from signstudio.models.backbones import load_backbone

            torch.set_num_threads(threads)
            self._torch = load_backbone(name, weights or None).eval()

    def __call__(self, images: np.ndarray, batch: int = 32) -> np.ndarray:
        """``(N, 224, 224, 3)`` uint8 -> ``(N, C)`` float32."""
        out = []
        for i in range(0, len(images), batch):
            chunk = np.ascontiguousarray(images[i : i + batch])
            if self._session is not None:
                maps = self._session.run(None, {"images": chunk})[0]
            else:
                import torch

                from signstudio.models.backbones import normalise

                with torch.inference_mode():
                    maps = self._torch.features(normalise(torch.from_numpy(chunk), self.name)).numpy()
            out.append(maps.mean((2, 3)))
        return np.concatenate(out).astype(np.float32)


class ClipEncoder:
    """A local ``CLIPVisionModel`` folder: the pooled (post-layer-norm CLS) output per image.

    Raises:
        ModelError: not a CLIP vision folder.
    """

    def __init__(self, folder: str | Path) -> None:
        from transformers import CLIPVisionModel

        self.folder = _hf_folder(folder, "CLIP vision model")
        self.model = CLIPVisionModel.from_pretrained(self.folder, local_files_only=True).eval()
        self.size = int(self.model.config.image_size)
        self.dim = int(self.model.config.hidden_size)

    def __call__(self, images: np.ndarray, batch: int = 16) -> np.ndarray:
        """``(N, S, S, 3)`` uint8 -> ``(N, D)`` float32."""
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(images), batch):
                x = _scaled(images[i : i + batch], self.size, CLIP_MEAN, CLIP_STD)
                out.append(self.model(pixel_values=x).pooler_output.float().numpy())
        return np.concatenate(out)


class VideoMAEEncoder:
    """A local ``VideoMAEModel`` folder: the mean of the last hidden states of each clip.

    Raises:
        ModelError: not a VideoMAE folder.
    """

    def __init__(self, folder: str | Path) -> None:
        from transformers import VideoMAEModel

        self.folder = _hf_folder(folder, "VideoMAE model")
        self.model = VideoMAEModel.from_pretrained(self.folder, local_files_only=True).eval()
        self.size = int(self.model.config.image_size)
        self.frames = int(self.model.config.num_frames)
        self.dim = int(self.model.config.hidden_size)

    def __call__(self, clips: list[np.ndarray]) -> np.ndarray:
        """``M`` clips of ``(F, S, S, 3)`` uint8 frames -> ``(M, D)`` float32 (each clip resampled
        to the model's ``num_frames``)."""
        import torch

        out = []
        with torch.inference_mode():
            for clip in clips:
                picks = np.round(np.linspace(0, len(clip) - 1, self.frames)).astype(int)
                x = _scaled(np.asarray(clip)[picks], self.size, IMAGENET_MEAN, IMAGENET_STD)
                out.append(self.model(pixel_values=x[None]).last_hidden_state.mean(1)[0].float().numpy())
        return np.stack(out)
