"""Text nobody sees: render mode 3/7, white on white, below 1 pt, off the page.

Such text is a prompt-injection vector for the LLM stage, so it is found while
pypdf reads a page (:class:`VisibilityScan`, its operator callbacks) and blanked
in the page's content streams before the page is read again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, ByteStringObject, ContentStream, DecodedStreamObject, NameObject


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
_STATE_OPERATORS = {b"q", b"Q", b"Tr", b"Tf", b"g", b"rg", b"k", b"G", b"RG", b"K", b"cs", b"CS", b"sc", b"scn",
                    b"SC", b"SCN"}
_DEVICE_SPACES = {"/DeviceGray": 1, "/CalGray": 1, "/DeviceRGB": 3, "/CalRGB": 3, "/DeviceCMYK": 4}


@dataclass
class _GraphicsState:
    """The part of the PDF graphics state that decides whether text is seen."""

    render_mode: int = 0
    font_size: float = 0.0
    fill_white: bool = False
    stroke_white: bool = False
    fill_components: int | None = 1  # components of the fill colour space; None: not a plain colour
    stroke_components: int | None = 1


@dataclass
class _Frame:
    """A content stream being interpreted: the page's, or a form XObject's."""

    resources: Any
    slot: tuple[Any, str] | None  # (the /XObject dictionary, name) holding this form; None for the page
    op_index: int = -1


class VisibilityScan:
    """``visitor_operand_before``/``after`` callbacks that find text-showing operators nobody sees."""

    def __init__(self, box: tuple[float, float, float, float] | None, page: Any):
        self.box = box
        self.state = _GraphicsState()
        self.stack: list[_GraphicsState] = []
        self.frames = [_Frame(resources=_resources(page), slot=None)]
        # Hidden operator indices per stream: None for the page's, else (id of the /XObject dictionary, name).
        self.hidden: dict[tuple[int, str] | None, set[int]] = {}
        self.slots: dict[tuple[int, str], tuple[Any, str]] = {}

    def before(self, operator: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        frame = self.frames[-1]
        frame.op_index += 1
        if operator in _TEXT_SHOWING:
            if not self._visible(cm, tm):
                key = None
                if frame.slot is not None:
                    key = (id(frame.slot[0]), frame.slot[1])
                    self.slots[key] = frame.slot
                self.hidden.setdefault(key, set()).add(frame.op_index)
        elif operator == b"Do":
            self.frames.append(self._form_frame(frame, operands))
        elif operator in _STATE_OPERATORS:
            self._update_state(operator, operands, frame)

    def after(self, operator: bytes, operands: list[Any], cm: list[float], tm: list[float]) -> None:
        if operator == b"Do" and len(self.frames) > 1:
            self.frames.pop()

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
            self.stack.append(_GraphicsState(**vars(state)))
        elif operator == b"Q":
            if self.stack:
                self.state = self.stack.pop()
        elif operator == b"Tr" and numbers:
            state.render_mode = int(numbers[0])
        elif operator == b"Tf" and numbers:
            state.font_size = numbers[-1]
        elif operator in (b"g", b"rg", b"k"):
            state.fill_white, state.fill_components = _is_white(numbers, len(numbers)), len(numbers)
        elif operator in (b"G", b"RG", b"K"):
            state.stroke_white, state.stroke_components = _is_white(numbers, len(numbers)), len(numbers)
        elif operator == b"cs" and operands:
            state.fill_components = _components(frame.resources, operands[0])
            state.fill_white = False
        elif operator == b"CS" and operands:
            state.stroke_components = _components(frame.resources, operands[0])
            state.stroke_white = False
        elif operator in (b"sc", b"scn"):
            state.fill_white = _is_white(numbers, state.fill_components)
        elif operator in (b"SC", b"SCN"):
            state.stroke_white = _is_white(numbers, state.stroke_components)

    def _visible(self, cm: list[float], tm: list[float]) -> bool:
        state = self.state
        mode = state.render_mode
        if mode in (3, 7):  # invisible, or clipping only
            return False
        fills, strokes = mode in (0, 2, 4, 6), mode in (1, 2, 5, 6)
        if (not fills or state.fill_white) and (not strokes or state.stroke_white):
            return False
        m = mult(tm, cm)
        if abs(state.font_size) * math.hypot(m[2], m[3]) < 1.0:  # below 1 pt nobody reads it
            return False
        if len(self.frames) > 1 or self.box is None:
            return True  # pypdf does not apply a form's matrix, so positions inside forms are not page positions
        x0, y0, x1, y1 = self.box
        slack = max(abs(state.font_size) * math.hypot(m[0], m[1]), 1.0)
        return x0 - slack <= m[4] <= x1 + slack and y0 - slack <= m[5] <= y1 + slack


def _resources(page: Any) -> Any:
    try:
        return page["/Resources"].get_object()
    except (KeyError, AttributeError):
        return {}


def _components(resources: Any, name: Any) -> int | None:
    """Number of colour components of a colour space, when white can be told from them."""
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


def _is_white(values: list[float], components: int | None) -> bool:
    if components is None or len(values) != components:
        return False
    if components == 4:  # CMYK: no ink
        return all(v <= 0.01 for v in values)
    return all(v >= 0.99 for v in values)


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
