"""Layer edits: remove an object, retime a layer, insert a new layer behind an object.

A decomposition is a background (T, H, W, 3) uint8, RGBA layers id -> (T, H, W, 4) uint8 and their
order back to front; an edit changes the layers or the order, then `compose` renders the frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from genbench.errors import GenbenchError
from genbench.models.omnimatte.compose import compose

INSERTED = 0  # the id of an inserted layer in an edited stack (object ids start at 1)


@dataclass
class Stack:
    """bg (T, H, W, 3) uint8; layers: id -> (T, H, W, 4) uint8; order: ids back to front."""

    bg: np.ndarray
    layers: dict[int, np.ndarray]
    order: list[int] = field(default_factory=list)

    def render(self) -> np.ndarray:
        return compose(self.bg, self.layers, self.order)

    def _need(self, k: int) -> None:
        if k not in self.layers:
            raise GenbenchError(f"no layer {k}; the layers are {', '.join(map(str, self.order)) or 'none'}")


def remove(stack: Stack, k: int) -> Stack:
    """Drop layer k: the object and its shadow/reflection vanish, the background shows there."""
    stack._need(k)
    return Stack(stack.bg, {j: v for j, v in stack.layers.items() if j != k}, [j for j in stack.order if j != k])


def retime_indices(frames: int, factor: float) -> np.ndarray:
    """Source frame of each output frame when a layer plays at `factor` x speed (0.5 = slow motion):
    frame t shows floor(t * factor), held at the last frame."""
    if not factor > 0:
        raise GenbenchError(f"a retime factor must be > 0, got {factor}")
    return np.minimum(np.floor(np.arange(frames) * factor).astype(np.int64), frames - 1)


def retime(stack: Stack, k: int, factor: float) -> Stack:
    """Play layer k at `factor` x speed; the background and the other layers keep their time."""
    stack._need(k)
    layers = dict(stack.layers)
    layers[k] = stack.layers[k][retime_indices(len(stack.bg), factor)]
    return Stack(stack.bg, layers, list(stack.order))


def insert_behind(stack: Stack, layer: np.ndarray, k: int) -> Stack:
    """Put `layer` ((H, W, 4) or (T, H, W, 4) uint8 RGBA) just behind object k: k and its effects,
    and everything in front of k, cover it; everything behind k is covered by it."""
    stack._need(k)
    t, h, w = stack.bg.shape[:3]
    if layer.shape[-3:] != (h, w, 4) or layer.dtype != np.uint8:
        raise GenbenchError(f"an inserted layer must be uint8 ({h}, {w}, 4) RGBA, got {layer.dtype}{layer.shape}")
    video = np.broadcast_to(layer, (t, h, w, 4)) if layer.ndim == 3 else layer
    order = list(stack.order)
    order.insert(order.index(k), INSERTED)
    return Stack(stack.bg, {**stack.layers, INSERTED: np.ascontiguousarray(video)}, order)


def image_layer(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An RGB or RGBA uint8 image as an (H, W, 4) layer, scaled to fit `size` (H, W) and centred;
    RGB images are opaque."""
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.shape[-1] == 3:
        image = np.concatenate([image, np.full((*image.shape[:2], 1), 255, np.uint8)], axis=-1)
    h, w = size
    scale = min(h / image.shape[0], w / image.shape[1])
    fit = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    resized = np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize(fit, Image.Resampling.LANCZOS))
    out = np.zeros((h, w, 4), np.uint8)
    y, x = (h - resized.shape[0]) // 2, (w - resized.shape[1]) // 2
    out[y:y + resized.shape[0], x:x + resized.shape[1]] = resized
    return out


def text_layer(text: str, size: tuple[int, int], color: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """`text` drawn centred in `color`, as large as fits the frame's width, on a transparent (H, W, 4) layer."""
    h, w = size
    canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    font_size = max(6, h // 2)
    while True:
        font = ImageFont.load_default(font_size)
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        if right - left <= w * 0.9 or font_size <= 6:
            break
        font_size -= 1
    draw.text(((w - (right - left)) / 2 - left, (h - (bottom - top)) / 2 - top), text, font=font, fill=(*color, 255))
    return np.asarray(canvas)
