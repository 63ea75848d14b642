"""Drawing one synthetic image: coloured shapes of a few classes on a noisy background.

Pure numpy + Pillow. Each class has its own outline (rectangle, ellipse, triangle) and its own
colour family (jittered around a base colour); the background is a random colour far from every
family. Both cues together let a small detector trained from scratch tell the classes apart
within the few hundred iterations of a smoke run; with colours independent of the class, the
same detectors stayed near 0.03 bbox mAP_50 after 800 iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SHAPE_CLASSES: tuple[str, ...] = ("rectangle", "ellipse", "triangle")
# base colour of each class (RGB), in the order of SHAPE_CLASSES
CLASS_COLOURS: tuple[tuple[int, int, int], ...] = ((220, 40, 40), (40, 200, 40), (40, 60, 230))


@dataclass(frozen=True)
class ShapeParams:
    """How images are drawn.

    Args:
        image_size: side of the square image in pixels.
        min_objects: fewest shapes per image.
        max_objects: most shapes per image.
        min_size_px: smallest box side (the geometric mean of width and height), drawn
            log-uniformly up to ``max_size_px``.
        max_size_px: largest box side. The defaults give COCO's three size ranges (small < 32²
            pixels < medium < 96² < large), so every ``bbox_mAP_s/m/l`` is defined.
        max_aspect: widest aspect ratio; ``h/w`` is drawn log-uniformly in ``[1/a, a]``.
        max_iou: largest IoU allowed between two boxes of one image.
        max_covered: largest fraction of a box that a later (drawn on top) box may cover, so
            shapes overlap without one hiding another.
        colour_jitter: largest change of each colour channel around the class's base colour.
    """

    image_size: int = 128
    min_objects: int = 1
    max_objects: int = 6
    min_size_px: float = 20.0
    max_size_px: float = 128.0
    max_aspect: float = 2.0
    max_iou: float = 0.35
    max_covered: float = 0.4
    colour_jitter: int = 30


@dataclass(frozen=True)
class DrawnObject:
    """One shape of an image: its class index and its tight box ``(x, y, w, h)`` in pixels."""

    label: int
    box_xywh: tuple[float, float, float, float]


Box = tuple[float, float, float, float]


def _overlaps(new: Box, old: Box) -> tuple[float, float]:
    """IoU of two ``(x, y, w, h)`` boxes, and the fraction of ``old`` that ``new`` covers."""
    iw = max(0.0, min(new[0] + new[2], old[0] + old[2]) - max(new[0], old[0]))
    ih = max(0.0, min(new[1] + new[3], old[1] + old[3]) - max(new[1], old[1]))
    inter = iw * ih
    old_area = old[2] * old[3]
    return inter / (new[2] * new[3] + old_area - inter), inter / old_area


def _sample_box(rng: np.random.Generator, p: ShapeParams) -> Box:
    size = float(np.exp(rng.uniform(np.log(p.min_size_px), np.log(p.max_size_px))))
    aspect = float(np.exp(rng.uniform(-np.log(p.max_aspect), np.log(p.max_aspect))))
    w = min(size / np.sqrt(aspect), p.image_size - 2.0)
    h = min(size * np.sqrt(aspect), p.image_size - 2.0)
    # whole pixels keep the drawn outline and the annotated box identical
    w, h = float(round(w)), float(round(h))
    x = float(rng.integers(0, int(p.image_size - w) + 1))
    y = float(rng.integers(0, int(p.image_size - h) + 1))
    return (x, y, w, h)


def _background(rng: np.random.Generator) -> np.ndarray:
    """A random colour at L1 distance > 200 from every class colour (fallback: mid grey)."""
    bases = np.asarray(CLASS_COLOURS)
    for _ in range(100):
        colour = rng.integers(0, 256, size=3)
        if np.abs(bases - colour).sum(axis=1).min() > 200:
            return colour
    return np.array([128, 128, 128])


def _class_colour(rng: np.random.Generator, label: int, jitter: int) -> tuple[int, ...]:
    colour = np.asarray(CLASS_COLOURS[label]) + rng.integers(-jitter, jitter + 1, size=3)
    return tuple(int(c) for c in np.clip(colour, 0, 255))


def _fits(box: Box, label: int, objects: list[DrawnObject], p: ShapeParams) -> bool:
    """Whether a new shape may go on top of ``objects``: it hides none of them, and does not sit
    mostly on a shape of its own class (the same colour family would hide its outline)."""
    for obj in objects:
        iou, covered = _overlaps(box, obj.box_xywh)
        if iou > p.max_iou or covered > p.max_covered:
            return False
        _, inside = _overlaps(obj.box_xywh, box)  # the fraction of the new box on the old one
        if obj.label == label and inside > 0.2:
            return False
    return True


def draw_image(rng: np.random.Generator, p: ShapeParams) -> tuple[Image.Image, list[DrawnObject]]:
    """Draw one image and return it with its objects (boxes are tight around each shape).

    Args:
        rng: the generator every random choice is drawn from (the only source of randomness).
        p: drawing parameters.

    Returns:
        The RGB image and its objects, in drawing order (later shapes lie on top).
    """
    background = _background(rng)
    noise = rng.normal(0.0, 12.0, size=(p.image_size, p.image_size, 3))
    pixels = np.clip(background[None, None, :] + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, mode="RGB")
    draw = ImageDraw.Draw(image)

    objects: list[DrawnObject] = []
    wanted = int(rng.integers(p.min_objects, p.max_objects + 1))
    for _ in range(wanted * 20):
        if len(objects) == wanted:
            break
        box = _sample_box(rng, p)
        label = int(rng.integers(0, len(SHAPE_CLASSES)))
        if not _fits(box, label, objects, p):
            continue
        colour = _class_colour(rng, label, p.colour_jitter)
        x, y, w, h = box
        # PIL's outline includes the last pixel: x + w - 1 keeps the shape inside (x, y, w, h)
        x2, y2 = x + w - 1, y + h - 1
        name = SHAPE_CLASSES[label]
        if name == "rectangle":
            draw.rectangle((x, y, x2, y2), fill=colour)
        elif name == "ellipse":
            draw.ellipse((x, y, x2, y2), fill=colour)
        else:
            if rng.random() < 0.5:  # apex up or down: both fill the box
                points = [(x, y2), (x2, y2), ((x + x2) / 2, y)]
            else:
                points = [(x, y), (x2, y), ((x + x2) / 2, y2)]
            draw.polygon(points, fill=colour)
        objects.append(DrawnObject(label=label, box_xywh=box))
    return image, objects
