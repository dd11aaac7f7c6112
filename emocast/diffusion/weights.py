"""Finding and loading every pretrained component of the diffusion engine.

``--weights DIR`` follows the released ``pretrained_models/`` layout::

    DIR/emocast/net.pth                                  EmoCAST checkpoint (Jmaomao/EmoCAST)
    DIR/sd-vae-ft-mse/{config.json, diffusion_pytorch_model.safetensors}        (stabilityai/sd-vae-ft-mse)
    DIR/wav2vec/wav2vec2-base-960h/{config.json, model.safetensors}            (facebook/wav2vec2-base-960h)
    DIR/clip-vit-large-patch14/{config.json, vocab.json, merges.txt, model.safetensors}
                                                                               (openai/clip-vit-large-patch14)
    DIR/face_analysis/models/glintr100.onnx              ArcFace of insightface's antelopev2 pack

(``.bin`` weights are accepted wherever ``.safetensors`` are; SD1.5's UNet is not needed at
inference: ``net.pth`` holds both UNets.) Without ``--weights``, the same files are looked up in the
Hugging Face cache under the hub ids above (download them with ``huggingface-cli download <id>``)
and the ArcFace model in ``~/.insightface/models/antelopev2/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError

HUB_IDS = {
    "emocast": "Jmaomao/EmoCAST",
    "vae": "stabilityai/sd-vae-ft-mse",
    "wav2vec": "facebook/wav2vec2-base-960h",
    "clip": "openai/clip-vit-large-patch14",
}
# component -> (folder under DIR, files; each file is a tuple of accepted alternatives)
LAYOUT: dict[str, tuple[str, tuple[tuple[str, ...], ...]]] = {
    "emocast": ("emocast", (("net.pth", "net.safetensors"),)),
    "vae": ("sd-vae-ft-mse", (("config.json",), ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin"))),
    "wav2vec": ("wav2vec/wav2vec2-base-960h", (("config.json",), ("model.safetensors", "pytorch_model.bin"))),
    "clip": ("clip-vit-large-patch14", (("config.json",), ("vocab.json",), ("merges.txt",),
                                        ("model.safetensors", "pytorch_model.bin"))),
    "arcface": ("face_analysis/models", (("glintr100.onnx",),)),
}
INSIGHTFACE_DIR = Path("~/.insightface/models/antelopev2")
# ArcFace's 112x112 alignment template: eyes, nose tip, mouth corners (image left to right)
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)


def scheduler_config() -> dict:
    """DDIM settings of the released inference config (zero-SNR, v-prediction, trailing timesteps)."""
    return dict(
        beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False, steps_offset=1,
        prediction_type="v_prediction", rescale_betas_zero_snr=True, timestep_spacing="trailing",
    )


@dataclass
class WeightPaths:
    """Resolved folders / files of every component."""

    net: Path
    vae: Path
    wav2vec: Path
    clip: Path
    arcface: Path


def locate_weights(weights: Path | None) -> tuple[WeightPaths | None, str | None]:
    """Find every file; return (paths, None) or (None, "missing <exact file>")."""
    found = {}
    for name, (folder, files) in LAYOUT.items():
        base = _component_folder(weights, name, folder)
        for alternatives in files:
            if base is None or not any((base / f).is_file() for f in alternatives):
                return None, _missing(weights, name, folder, alternatives[0])
        found[name] = base
    net_dir = found["emocast"]
    net = next(net_dir / f for f in LAYOUT["emocast"][1][0] if (net_dir / f).is_file())
    return WeightPaths(net=net, vae=found["vae"], wav2vec=found["wav2vec"], clip=found["clip"],
                       arcface=found["arcface"] / "glintr100.onnx"), None


def _component_folder(weights: Path | None, name: str, folder: str) -> Path | None:
    if weights is not None:
        return Path(weights).expanduser() / folder
    if name == "arcface":
        return INSIGHTFACE_DIR.expanduser()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(HUB_IDS[name], local_files_only=True))
    except Exception:  # noqa: BLE001 - any cache miss / hub error means "not available offline"
        return None


def _missing(weights: Path | None, name: str, folder: str, file: str) -> str:
    if weights is not None:
        return f"missing {Path(weights).expanduser() / folder / file}"
    if name == "arcface":
        return f"missing {INSIGHTFACE_DIR / file} (insightface antelopev2 pack); or pass --weights DIR"
    return f"missing {file} of {HUB_IDS[name]} in the Hugging Face cache (huggingface-cli download {HUB_IDS[name]}); or pass --weights DIR"


def load_pipeline(paths: WeightPaths, device, dtype):
    """Build the real-size EmoCASTPipeline from local files on ``device`` in ``dtype``."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler
    from transformers import CLIPTextModel, CLIPTokenizer, Wav2Vec2Model

    from emocast.diffusion.config import real_config
    from emocast.diffusion.net import Net, load_state_dict_file
    from emocast.diffusion.pipeline_emocast import EmoCASTPipeline

    state = load_state_dict_file(paths.net)
    from emocast.diffusion.check_weights import is_emotive

    with torch.device("meta"):
        net = Net.from_config(real_config(emotive=is_emotive(state)))
    try:
        net.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as e:
        raise EmocastError(f"{paths.net} does not fit the EmoCAST network; run `emocast check-weights --checkpoint {paths.net}`") from e
    net = net.to(device=device, dtype=dtype).eval()
    vae = AutoencoderKL.from_pretrained(paths.vae, torch_dtype=dtype).to(device).eval()
    text_encoder = CLIPTextModel.from_pretrained(paths.clip, torch_dtype=dtype).to(device).eval()
    tokenizer = CLIPTokenizer.from_pretrained(paths.clip)
    audio_encoder = Wav2Vec2Model.from_pretrained(paths.wav2vec, torch_dtype=torch.float32).to(device).eval()
    return EmoCASTPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, audio_encoder=audio_encoder,
        reference_unet=net.reference_unet, denoising_unet=net.denoising_unet, face_locator=net.face_locator,
        image_proj=net.imageproj, audio_proj=net.audioproj, scheduler=DDIMScheduler(**scheduler_config()),
    )


class ArcFaceEmbedder:
    """The 512-d identity embedding EmoCAST's image projection expects (insightface's ``embedding``).

    Runs insightface's ArcFace ONNX model (glintr100) with onnxruntime on a 112x112 crop aligned by
    five points taken from the MediaPipe landmarks (eye centres, nose tip, mouth corners).
    """

    def __init__(self, model_path: Path, providers: list[str] | None = None) -> None:
        try:
            import onnxruntime
        except ImportError as e:
            raise EmocastError("the face embedding needs onnxruntime: pip install onnxruntime-gpu (or onnxruntime)") from e
        providers = providers or [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
                                  if p in onnxruntime.get_available_providers()]
        self.session = onnxruntime.InferenceSession(str(model_path), providers=providers)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 RGB + (478, 2+) landmarks in its pixels -> (512,) float32 embedding."""
        blob = aligned_face(image, landmarks).astype(np.float32)
        blob = ((blob - 127.5) / 127.5).transpose(2, 0, 1)[None]  # (1, 3, 112, 112) RGB
        return self.session.run(None, {self.input_name: blob})[0][0].astype(np.float32)


def aligned_face(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """112x112 ArcFace-aligned crop from five MediaPipe points."""
    import cv2

    points = np.asarray(landmarks, np.float32)[:, :2]
    eyes = sorted([points[468], points[473]] if len(points) > 473 else [points[33:34].mean(0), points[263:264].mean(0)],
                  key=lambda p: p[0])
    mouth = sorted([points[61], points[291]], key=lambda p: p[0])
    five = np.array([eyes[0], eyes[1], points[1], mouth[0], mouth[1]], dtype=np.float32)
    matrix, _ = cv2.estimateAffinePartial2D(five, ARCFACE_TEMPLATE, method=cv2.LMEDS)
    if matrix is None:
        raise EmocastError("could not align the face for the identity embedding")
    return cv2.warpAffine(image, matrix, (112, 112), borderValue=0.0)


FaceEmbedder = Callable[[np.ndarray, np.ndarray], np.ndarray]


# Device nodes a CUDA (NVIDIA) or ROCm (AMD, also torch.cuda) GPU exposes on Linux; when none exists
# the answer is known without importing torch (~5 s on a small CPU machine).
_GPU_DEVICE_FILES = ("/dev/nvidiactl", "/dev/nvidia0", "/proc/driver/nvidia/version", "/dev/kfd")


def cuda_reason() -> str | None:
    """None when a CUDA GPU is usable, else why not."""
    if os.environ.get("CUDA_VISIBLE_DEVICES") == "":
        return "no CUDA GPU found"
    if os.name == "posix" and os.path.isdir("/dev") and not any(os.path.exists(p) for p in _GPU_DEVICE_FILES):
        return "no CUDA GPU found"
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    if os.environ.get("CUDA_VISIBLE_DEVICES") == "" or not torch.cuda.is_available():
        return "no CUDA GPU found"
    return None
