"""Text nobody sees: render mode 3/7, too pale for its background, under 1.5 pt, transparent, covered, off the page.

Such text is a prompt-injection vector for the LLM stage, so it is found while
pypdf reads a page (:class:`VisibilityScan`, its operator callbacks) and blanked
in the page's content streams before the page is read again. Text is judged by
the contrast of its colour against what lies under it (the page's white, or the
last filled rectangle drawn beneath it: white text on a dark box is read) and is
hidden when an opaque filled rectangle drawn after it covers it
(:mod:`paperdiary.stages.colour` holds the thresholds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, ByteStringObject, ContentStream, DecodedStreamObject, NameObject

from paperdiary.stages.colour import BLACK, MIN_OPACITY, MIN_TYPE_PT, RGB, WHITE, blend, from_components, legible


def mult(m: list[float], n: list[float]) -> list[float]:
    """Product of two PDF affine matrices [a b c d e f]."""
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


_TEXT_SHOWING = {b"Tj", b"TJ", b"'", b'"'}
_STATE_OPERATORS = {b"q", b"Q", b"Tr", b"Tf", b"Tz", b"g", b"rg", b"k", b"G", b"RG", b"K", b"cs", b"CS", b"sc",
                    b"scn", b"SC", b"SCN", b"gs"}
_PATH_OPERATORS = {b"re", b"m", b"l", b"c", b"v", b"y", b"h"}
_FILLS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*"}
_PAINTS = _FILLS | {b"S", b"s", b"n"}
_DEVICE_SPACES = {"/DeviceGray": 1, "/CalGray": 1, "/DeviceRGB": 3, "/CalRGB": 3, "/DeviceCMYK": 4}
_COVER_OPACITY = 0.9  # a rectangle at least this opaque hides what it covers
_MIN_BOX = 2.0  # points: thinner rectangles (rules, underlines) neither cover text nor lie under it


@dataclass
class _GraphicsState:
    """The part of the PDF graphics state that decides whether text is seen."""

    render_mode: int = 0
    font_size: float = 0.0
    horizontal_scale: float = 1.0
    fill: RGB | None = BLACK  # None: a colour that cannot be told (pattern, separation)
    stroke: RGB | None = BLACK
    fill_components: int | None = 1  # components of the fill colour space; None: not a plain colour
    stroke_components: int | None = 1
    fill_opacity: float = 1.0
    stroke_opacity: float = 1.0
    two_byte: bool = False  # the font is a composite (Type0) one: two bytes per glyph, mostly


@dataclass
class _Frame:
    """A content stream being interpreted: the page's, or a form XObject's."""

    resources: Any
    slot: tuple[Any, str] | None  # (the /XObject dictionary, name) holding this form; None for the page
    op_index: int = -1


@dataclass
class _Text:
    """A text-showing operator whose visibility depends on what is drawn under or over it."""

    key: tuple[int, str] | None  # its stream (see VisibilityScan.hidden)
    op_index: int
    seq: int  # drawing order on the page
    box: tuple[float, float, float, float]  # where its glyphs roughly sit, page space
    fill: RGB | None
    stroke: RGB | None
    fills: bool
    strokes: bool


@dataclass
class _Rect:
    seq: int
    box: tuple[float, float, float, float]
    colour: RGB
    opacity: float


@dataclass
class VisibilityScan:
    """``visitor_operand_before``/``after`` callbacks that find text-showing operators nobody sees.

    Call :meth:`finish` once the page is read: text covered by a later shape, or
    too pale for the shape under it, is only known then.
    """

    box: tuple[float, float, float, float] | None
    page: Any
    state: _GraphicsState = field(default_factory=_GraphicsState)
    stack: list[_GraphicsState] = field(default_factory=list)
    # Hidden operator indices per stream: None for the page's, else (id of the /XObject dictionary, name).
    hidden: dict[tuple[int, str] | None, set[int]] = field(default_factory=dict)
    slots: dict[tuple[int, str], tuple[Any, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.frames = [_Frame(resources=_resources(self.page), slot=None)]
        self.texts: list[_Text] = []
        self.rects: list[_Rect] = []
        self._path: list[tuple[float, float, float, float]] = []
        self._path_is_boxes = True
        self._seq = 0

    def before(self, operator: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        frame = self.frames[-1]
        frame.op_index += 1
        self._seq += 1
        if operator in _TEXT_SHOWING:
            self._text(frame, operands, cm, tm)
        elif operator in _PATH_OPERATORS:
            self._path_operator(operator, operands, cm)
        elif operator in _PAINTS:
            self._paint(operator)
        elif operator == b"Do":
            self.frames.append(self._form_frame(frame, operands))
        elif operator in _STATE_OPERATORS:
            self._update_state(operator, operands, frame)

    def after(self, operator: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        if operator == b"Do" and len(self.frames) > 1:
            self.frames.pop()

    def finish(self) -> dict[tuple[int, str] | None, set[int]]:
        """The hidden operators, with those hidden by the shapes around them: ``hidden``, completed."""
        opaque = [r for r in self.rects if r.opacity >= _COVER_OPACITY]
        for text in self.texts:
            if any(r.seq > text.seq and _contains(r.box, text.box) for r in opaque):
                self._hide(text.key, text.op_index)
                continue
            background = WHITE
            for rect in self.rects:
                if rect.seq < text.seq and _contains(rect.box, text.box, centre_only=True):
                    background = blend(rect.colour, background, rect.opacity)
            if not self._seen_on(text, background):
                self._hide(text.key, text.op_index)
        self.texts = []
        return self.hidden

    # -- text
    def _text(self, frame: _Frame, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        key = None
        if frame.slot is not None:
            key = (id(frame.slot[0]), frame.slot[1])
            self.slots[key] = frame.slot
        state = self.state
        mode = state.render_mode
        fills, strokes = mode in (0, 2, 4, 6), mode in (1, 2, 5, 6)
        m = mult(tm, cm)
        size = abs(state.font_size) * math.hypot(m[2], m[3])
        if mode in (3, 7) or size < MIN_TYPE_PT:  # invisible or clipping only; too small to read
            self._hide(key, frame.op_index)
            return
        if (not fills or state.fill_opacity < MIN_OPACITY) and (not strokes or state.stroke_opacity < MIN_OPACITY):
            self._hide(key, frame.op_index)
            return
        if len(self.frames) > 1 or self.box is None:
            # pypdf does not apply a form's matrix, so positions inside forms are not page positions:
            # only the colour against the page's white can be judged.
            text = _Text(key, frame.op_index, self._seq, (0, 0, 0, 0), state.fill, state.stroke, fills, strokes)
            if not self._seen_on(text, WHITE):
                self._hide(key, frame.op_index)
            return
        x0, y0, x1, y1 = self.box
        slack = max(abs(state.font_size) * math.hypot(m[0], m[1]), 1.0)
        if not (x0 - slack <= m[4] <= x1 + slack and y0 - slack <= m[5] <= y1 + slack):
            self._hide(key, frame.op_index)
            return
        glyphs = _code_bytes(operands) // (2 if state.two_byte else 1)
        width = 0.45 * size * state.horizontal_scale * max(glyphs, 1)  # about half an em a glyph
        box = (m[4], m[5] - 0.15 * size, m[4] + width, m[5] + 0.6 * size)
        self.texts.append(_Text(key, frame.op_index, self._seq, box, state.fill, state.stroke, fills, strokes))

    def _seen_on(self, text: _Text, background: RGB) -> bool:
        state_colours = []
        if text.fills:
            state_colours.append(text.fill)
        if text.strokes:
            state_colours.append(text.stroke)
        return any(colour is None or legible(colour, background) for colour in state_colours)

    def _hide(self, key: tuple[int, str] | None, index: int) -> None:
        self.hidden.setdefault(key, set()).add(index)

    # -- shapes
    def _path_operator(self, operator: bytes, operands: list[Any], cm: list[float]) -> None:
        numbers = [float(o) for o in operands if isinstance(o, (int, float))]
        if operator == b"re" and len(numbers) == 4:
            x, y, w, h = numbers
            corners = [_apply(cm, px, py) for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h))]
            xs, ys = [c[0] for c in corners], [c[1] for c in corners]
            self._path.append((min(xs), min(ys), max(xs), max(ys)))
        elif operator != b"h":
            self._path_is_boxes = False

    def _paint(self, operator: bytes) -> None:
        state = self.state
        if (operator in _FILLS and self._path and self._path_is_boxes and len(self.frames) == 1
                and state.fill is not None):
            for box in self._path:
                if box[2] - box[0] >= _MIN_BOX and box[3] - box[1] >= _MIN_BOX:
                    self.rects.append(_Rect(self._seq, box, state.fill, state.fill_opacity))
        self._path = []
        self._path_is_boxes = True

    # -- state
    def _form_frame(self, parent: _Frame, operands: list[Any]) -> _Frame:
        """The frame for a form XObject's own operators, which pypdf visits between Do's callbacks."""
        try:
            xobjects = parent.resources["/XObject"].get_object()
            name = str(operands[0])
            form = xobjects[name].get_object()
            resources = form.get("/Resources", parent.resources).get_object()
            return _Frame(resources=resources, slot=(xobjects, name))
        except (KeyError, IndexError, AttributeError, TypeError):
            return _Frame(resources=parent.resources, slot=None)

    def _update_state(self, operator: bytes, operands: list[Any], frame: _Frame) -> None:
        state = self.state
        numbers = [float(o) for o in operands if isinstance(o, (int, float))]
        if operator == b"q":
            self.stack.append(replace(state))
        elif operator == b"Q":
            if self.stack:
                self.state = self.stack.pop()
        elif operator == b"Tr" and numbers:
            state.render_mode = int(numbers[0])
        elif operator == b"Tf" and numbers:
            state.font_size = numbers[-1]
            state.two_byte = _is_composite(frame.resources, operands[0] if operands else None)
        elif operator == b"Tz" and numbers:
            state.horizontal_scale = numbers[0] / 100
        elif operator in (b"g", b"rg", b"k"):
            state.fill, state.fill_components = from_components(numbers), len(numbers)
        elif operator in (b"G", b"RG", b"K"):
            state.stroke, state.stroke_components = from_components(numbers), len(numbers)
        elif operator == b"cs" and operands:
            state.fill_components = _components(frame.resources, operands[0])
            state.fill = BLACK if state.fill_components else None  # a new space starts at its black (or unknown)
        elif operator == b"CS" and operands:
            state.stroke_components = _components(frame.resources, operands[0])
            state.stroke = BLACK if state.stroke_components else None
        elif operator in (b"sc", b"scn"):
            state.fill = _colour(numbers, state.fill_components)
        elif operator in (b"SC", b"SCN"):
            state.stroke = _colour(numbers, state.stroke_components)
        elif operator == b"gs" and operands:
            self._graphics_state(frame.resources, operands[0])

    def _graphics_state(self, resources: Any, name: Any) -> None:
        """Opacity from an /ExtGState (``/ca`` for filling, ``/CA`` for stroking)."""
        try:
            params = resources["/ExtGState"][str(name)].get_object()
            if "/ca" in params:
                self.state.fill_opacity = float(params["/ca"])
            if "/CA" in params:
                self.state.stroke_opacity = float(params["/CA"])
        except (KeyError, TypeError, ValueError, AttributeError):
            pass


def _apply(m: list[float], x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _contains(outer: tuple[float, float, float, float], inner: tuple[float, float, float, float], *,
              centre_only: bool = False, tolerance: float = 1.0) -> bool:
    if centre_only:
        cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
        return outer[0] <= cx <= outer[2] and outer[1] <= cy <= outer[3]
    return (outer[0] - tolerance <= inner[0] and outer[1] - tolerance <= inner[1]
            and inner[2] <= outer[2] + tolerance and inner[3] <= outer[3] + tolerance)


def _code_bytes(operands: list[Any]) -> int:
    """How many bytes of glyph codes a text operator shows."""
    count = 0
    for operand in operands:
        if isinstance(operand, ArrayObject):
            count += sum(len(o) for o in operand if isinstance(o, (str, bytes)) and not isinstance(o, NameObject))
        elif isinstance(operand, (str, bytes)) and not isinstance(operand, NameObject):
            count += len(operand)
    return count


def _is_composite(resources: Any, name: Any) -> bool:
    try:
        return str(resources["/Font"][str(name)].get_object().get("/Subtype")) == "/Type0"
    except (KeyError, TypeError, AttributeError):
        return False


def _resources(page: Any) -> Any:
    try:
        return page["/Resources"].get_object()
    except (KeyError, AttributeError):
        return {}


def _components(resources: Any, name: Any) -> int | None:
    """Number of colour components of a colour space, when its colours can be told from them."""
    name = str(name)
    if name in _DEVICE_SPACES:
        return _DEVICE_SPACES[name]
    try:
        space = resources["/ColorSpace"][name].get_object()
        if isinstance(space, ArrayObject) and str(space[0]) == "/ICCBased":
            return int(space[1].get_object()["/N"])
        if isinstance(space, ArrayObject) and str(space[0]) in _DEVICE_SPACES:
            return _DEVICE_SPACES[str(space[0])]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        pass
    return None  # Separation, Indexed, Pattern...: a tint of 1 may well be black


def _colour(values: list[float], components: int | None) -> RGB | None:
    if components is None or len(values) != components:
        return None
    return from_components(values)


def blank_hidden_text(reader: PdfReader, page: Any, scan: VisibilityScan) -> None:
    """Empty the strings of the hidden text operators, in the page and in form XObjects."""
    for key, indices in scan.hidden.items():
        if key is None:
            stream = ContentStream(page["/Contents"].get_object(), reader, "bytes")
            _blank_operations(stream, indices)
            page[NameObject("/Contents")] = stream
            continue
        xobjects, name = scan.slots[key]
        form = xobjects[name].get_object()
        stream = ContentStream(form, reader, "bytes")
        _blank_operations(stream, indices)
        # A plain decoded copy: set_data on the original only supports Flate-encoded streams.
        copy = DecodedStreamObject()
        copy.update({k: v for k, v in form.items() if k not in ("/Filter", "/DecodeParms", "/Length")})
        copy.set_data(stream.get_data())
        xobjects[NameObject(name)] = copy


def _blank_operations(stream: ContentStream, indices: set[int]) -> None:
    operations = stream.operations
    for index in indices:
        if index < len(operations):
            operands, operator = operations[index]
            operations[index] = ([_blank(o) for o in operands], operator)
    stream.operations = operations


def _blank(operand: Any) -> Any:
    if isinstance(operand, ArrayObject):
        return ArrayObject()
    if isinstance(operand, (str, bytes)) and not isinstance(operand, NameObject):
        return ByteStringObject(b"")
    return operand
