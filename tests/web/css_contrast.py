"""A small cascade over pxflask.css and the WCAG 2 contrast ratio, for the tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

CSS_FILE = Path(__file__).parents[2] / "pxflask" / "static" / "pxflask.css"
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_VAR = re.compile(r"var\((--[\w-]+)\)")
_COMPOUND = re.compile(r"^([a-z]+)?((?:[.:][\w-]+)*)$")


@dataclass(frozen=True)
class Rule:
    """One selector of a rule: its compounds (ancestors, then the element) and props."""

    compounds: tuple[tuple[str, frozenset[str]], ...]
    props: dict[str, str]
    order: int

    @property
    def specificity(self) -> tuple[int, int]:
        """(classes and pseudo-classes, tags): the stylesheet has no ids."""
        return (
            sum(len(parts) for _, parts in self.compounds),
            sum(1 for tag, _ in self.compounds if tag),
        )


@dataclass(frozen=True)
class Element:
    """An element to style: tag, classes and states, ancestors' classes, backdrop."""

    tag: str
    parts: frozenset[str] = field(default_factory=frozenset)
    ancestors: frozenset[str] = field(default_factory=frozenset)
    backdrop: str = "#ffffff"


def _compound(text: str) -> tuple[str, frozenset[str]] | None:
    """`button.primary:hover` as ("button", {".primary", ":hover"}); None if complex."""
    match = _COMPOUND.match(text)
    if match is None:
        return None
    return match.group(1) or "", frozenset(re.findall(r"[.:][\w-]+", match.group(2)))


def parse_css(text: str) -> tuple[dict[str, str], list[Rule]]:
    """The :root custom properties and every simple rule, variables resolved."""
    text = _COMMENT.sub("", text)
    variables: dict[str, str] = {}
    rules: list[Rule] = []
    for selectors, body in _RULE.findall(text):
        props = {}
        for declaration in body.split(";"):
            name, _, value = declaration.partition(":")
            if value:
                props[name.strip()] = value.strip()
        if selectors.strip() == ":root":
            variables.update({k: v for k, v in props.items() if k.startswith("--")})
            continue
        for selector in selectors.split(","):
            compounds = [_compound(part) for part in selector.split()]
            if compounds and all(c is not None for c in compounds):
                rules.append(Rule(tuple(compounds), props, len(rules)))  # type: ignore[arg-type]
    for rule in rules:
        for name, value in rule.props.items():
            rule.props[name] = _VAR.sub(lambda m: variables[m.group(1)], value)
    return variables, rules


def _matches(rule: Rule, element: Element) -> bool:
    """True when the rule's last compound fits the element and its ancestors fit."""
    *ancestors, (tag, parts) = rule.compounds
    if tag and tag != element.tag:
        return False
    if not parts <= element.parts:
        return False
    return all(
        not a_tag and a_parts <= element.ancestors for a_tag, a_parts in ancestors
    )


def computed(rules: list[Rule], element: Element) -> tuple[str, str]:
    """The element's text colour and opaque background after the cascade."""
    props: dict[str, str] = {}
    matching = [r for r in rules if _matches(r, element)]
    for rule in sorted(matching, key=lambda r: (r.specificity, r.order)):
        props.update(rule.props)
    colour = props.get("color", "#1f2933")
    background = props.get("background-color", props.get("background", "none"))
    if background in ("none", "transparent"):
        background = element.backdrop
    background = _flatten(background, element.backdrop)
    return _flatten(colour, background), background


def _rgba(value: str) -> tuple[float, float, float, float]:
    """#rgb, #rrggbb or rgba()/rgb() as (r, g, b, alpha) with channels 0..255."""
    value = value.strip()
    if value.startswith("#"):
        digits = value[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        return r, g, b, 1.0
    numbers = [float(n) for n in re.findall(r"[\d.]+", value)]
    if value.startswith("rgb") and len(numbers) in (3, 4):
        return (
            numbers[0],
            numbers[1],
            numbers[2],
            numbers[3] if len(numbers) == 4 else 1.0,
        )
    raise ValueError(f"not a colour: {value!r}")


def _flatten(colour: str, backdrop: str) -> str:
    """A translucent colour composited over its backdrop, as #rrggbb."""
    r, g, b, alpha = _rgba(colour)
    br, bg, bb, _ = _rgba(backdrop)
    mixed = [round(c * alpha + d * (1 - alpha)) for c, d in ((r, br), (g, bg), (b, bb))]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an opaque colour."""

    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = _rgba(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio (L1 + 0.05) / (L2 + 0.05), lighter over darker."""
    light, dark = sorted(
        (luminance(foreground), luminance(_flatten(background, "#ffffff"))),
        reverse=True,
    )
    return (light + 0.05) / (dark + 0.05)
