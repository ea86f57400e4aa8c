"""The lineage drawn as an SVG graph, laid out in Python (no Graphviz).

Data flows left to right: upstream sources on the left, grouped per (provider, model) with their
counts; the datasets, runs and models in between; the target on the right. Every box shows its
verdict three ways — colour, a pattern in its side band, and the verdict in words — so the graph
reads in black and white too. Boxes are stacked per column, so they never overlap; a column with more
than ``MAX_ROWS`` boxes is collapsed (sources per provider, intermediates per kind), so a lineage of
thousands of generations still draws a few dozen boxes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from policyengine.report import view

MAX_ROWS = 24
"""Most boxes one column may hold before it is collapsed."""

BOX_W = 212
COLUMN_GAP = 104
LINE_H = 15
PAD = 9
ROW_GAP = 14
MARGIN = 16
CHAR_W = 6.6  # average advance of the 12px sans-serif used, for truncating labels

_RANK = {"violation": 0, "needs_review": 1, "compliant": 2, "": 3}
WORDS = {
    "violation": "✕ violation",
    "needs_review": "? needs review",
    "compliant": "✓ compliant",
    "": "",
}


@dataclass(frozen=True, slots=True)
class Node:
    """One box: where it is, what it says, and the verdict of the sources behind it."""

    id: str
    kind: str  # target, sources, dataset, run, model, use, …
    lines: tuple[str, ...]
    verdict: str
    title: str
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class Link:
    """One arrow from an upstream box to a downstream box."""

    upstream: str
    downstream: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    """The transforms or activities on the arrows leaving one box, written beside it."""

    text: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Layout:
    """Boxes with their coordinates, arrows and labels, and the size of the drawing."""

    width: float
    height: float
    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    labels: tuple[Label, ...]


@dataclass
class _Box:
    id: str
    kind: str
    lines: list[str]
    verdict: str
    title: str
    column: int = 0


def worst(verdicts: Iterable[str]) -> str:
    """The worst verdict of ``verdicts`` (empty string for none)."""
    return min(verdicts, key=_RANK.__getitem__, default="")


def layout(report: view.Report) -> Layout:
    """Lay out ``report``'s lineage: columns by distance from the target, sources leftmost."""
    edge_labels = {(e.downstream, e.upstream): _edge_label(e) for e in report.lineage}
    kinds = {e.upstream: e.upstream_kind for e in report.lineage}
    boxes, member = _boxes(report, kinds)
    chains = [
        ["target", *(member[a] for a in s.via), member[_source_key(s)]] for s in report.sources
    ]
    raw_chains = [[report.target.id, *s.via, s.id] for s in report.sources]
    depth: dict[str, int] = defaultdict(int)
    for chain in chains:
        for i, name in enumerate(chain[1:-1], start=1):
            depth[name] = max(depth[name], i)
    last = max(depth.values(), default=0) + 1
    for box in boxes.values():
        box.column = 0 if box.kind == "sources" else last - depth[box.id]
    boxes["target"].column = last
    links: dict[tuple[str, str], set[str]] = defaultdict(set)
    for chain, raw in zip(chains, raw_chains, strict=True):
        for i in range(len(chain) - 1):
            if chain[i] != chain[i + 1]:
                links[(chain[i + 1], chain[i])].add(edge_labels.get((raw[i], raw[i + 1]), ""))
    nodes = _place(boxes, links, last)
    return Layout(
        width=MARGIN * 2 + (last + 1) * BOX_W + last * COLUMN_GAP,
        height=MARGIN * 2 + max((n.y + n.h for n in nodes), default=0) - MARGIN,
        nodes=nodes,
        links=tuple(
            Link(up, down, ", ".join(sorted(t for t in texts if t)))
            for (up, down), texts in sorted(links.items())
        ),
        labels=_labels(nodes, links),
    )


def _edge_label(edge: view.Edge) -> str:
    if edge.transform:
        return edge.transform
    if edge.activity:
        return edge.activity.replace("_", " ")
    return edge.relation.replace("_", " ")


def _source_key(source: view.Source) -> str:
    return f"source:{source.id}"


def _boxes(report: view.Report, kinds: dict[str, str]) -> tuple[dict[str, _Box], dict[str, str]]:
    """Every box, and which box stands for each artifact (several share a collapsed box)."""
    target = report.target
    boxes = {
        "target": _Box(
            "target",
            "target",
            [target.name or target.id, f"{target.kind} · {report.use}", WORDS[report.verdict]],
            report.verdict,
            f"{target.kind} {target.id}",
        )
    }
    member = _clusters(report.sources, boxes)
    through: dict[str, set[str]] = defaultdict(set)
    depth: dict[str, int] = defaultdict(int)
    for source in report.sources:
        for i, artifact in enumerate(source.via, start=1):
            through[artifact].add(source.verdict)
            depth[artifact] = max(depth[artifact], i)
    by_depth: dict[int, list[str]] = defaultdict(list)
    for artifact in sorted(through):
        by_depth[depth[artifact]].append(artifact)
    grouped: dict[str, list[str]] = defaultdict(list)
    for artifacts in by_depth.values():
        collapse = len(artifacts) > MAX_ROWS
        for artifact in artifacts:
            kind = kinds.get(artifact, "artifact")
            key = f"{kind}s@{depth[artifact]}" if collapse else f"artifact:{artifact}"
            member[artifact] = key
            grouped[key].append(artifact)
    for key, names in grouped.items():
        kind = kinds.get(names[0], "artifact")
        verdict = worst(v for name in names for v in through[name])
        head = names[0] if len(names) == 1 else f"{len(names)} {kind}s"
        lines = [head, kind if len(names) == 1 else "collapsed", WORDS[verdict]]
        boxes[key] = _Box(key, kind, lines, verdict, f"{kind} " + ", ".join(names))
    return boxes, member


def _clusters(sources: Sequence[view.Source], boxes: dict[str, _Box]) -> dict[str, str]:
    """Group sources per (provider, model); per provider alone when that makes too many boxes."""

    def by_model(s: view.Source) -> tuple[str, str]:
        return (s.provider or s.kind, s.model or s.license or s.id)

    def by_provider(s: view.Source) -> tuple[str, str]:
        return (s.provider or s.kind, "")

    grouping = by_model
    if len({by_model(s) for s in sources}) > MAX_ROWS:
        grouping = by_provider
    groups: dict[tuple[str, str], list[view.Source]] = defaultdict(list)
    for source in sources:
        groups[grouping(source)].append(source)
    if len(groups) > MAX_ROWS:
        ranked = sorted(groups, key=lambda k: (-len(groups[k]), k))
        rest = [s for key in ranked[MAX_ROWS - 1 :] for s in groups.pop(key)]
        groups[("other providers", "")] = rest
    member: dict[str, str] = {}
    for (provider, model), members in sorted(groups.items()):
        key = f"sources:{provider}:{model}"
        ids = sorted({s.id for s in members})
        records = [s.records for s in members]
        counted = sum(r for r in records if r is not None)
        amount = f"{len(ids)} sources" if len(ids) > 1 else ids[0]
        if counted:
            amount += f" · {counted:,} records"
        verdict = worst(s.verdict for s in members)
        boxes[key] = _Box(
            key,
            "sources",
            [f"{provider} · {model}" if model else provider, amount, WORDS[verdict]],
            verdict,
            "\n".join(ids),
        )
        for source in members:
            member[_source_key(source)] = key
    return member


def _place(
    boxes: dict[str, _Box], links: dict[tuple[str, str], set[str]], last: int
) -> tuple[Node, ...]:
    """Stack each column's boxes, ordered by where their downstream boxes sit (fewer crossings)."""
    downstream: dict[str, list[str]] = defaultdict(list)
    for up, down in links:
        downstream[up].append(down)
    rank: dict[str, float] = {"target": 0.0}
    columns: dict[int, list[_Box]] = defaultdict(list)
    for box in boxes.values():
        columns[box.column].append(box)
    heights = {c: sum(_height(b) + ROW_GAP for b in bs) - ROW_GAP for c, bs in columns.items()}
    tallest = max(heights.values(), default=0)
    nodes: list[Node] = []
    for column in range(last, -1, -1):
        members = columns.get(column, [])
        for box in members:
            near = [rank[d] for d in downstream[box.id] if d in rank]
            rank[box.id] = sum(near) / len(near) if near else 0.0
        members.sort(key=lambda b: (rank[b.id], _RANK[b.verdict], b.lines[0], b.id))
        y = MARGIN + (tallest - heights.get(column, 0)) / 2
        x = MARGIN + column * (BOX_W + COLUMN_GAP)
        for index, box in enumerate(members):
            rank[box.id] = index
            nodes.append(
                Node(
                    box.id,
                    box.kind,
                    tuple(box.lines),
                    box.verdict,
                    box.title,
                    x,
                    y,
                    BOX_W,
                    _height(box),
                )
            )
            y += _height(box) + ROW_GAP
    return tuple(sorted(nodes, key=lambda n: (n.x, n.y)))


def _height(box: _Box) -> float:
    return PAD * 2 + LINE_H * len(box.lines)


def _labels(nodes: Sequence[Node], links: dict[tuple[str, str], set[str]]) -> tuple[Label, ...]:
    texts: dict[str, set[str]] = defaultdict(set)
    for (up, _), found in links.items():
        texts[up].update(t for t in found if t)
    labels = []
    for node in nodes:
        if texts.get(node.id):
            text = fit(", ".join(sorted(texts[node.id])), COLUMN_GAP - 8, size=10)
            labels.append(Label(text, node.x + node.w + 5, node.y + node.h / 2 - 4))
    return tuple(labels)


def fit(text: str, width: float, *, size: float = 12) -> str:
    """``text`` cut with an ellipsis to fit ``width`` pixels at font ``size``."""
    most = max(int(width / (CHAR_W * size / 12)), 2)
    return text if len(text) <= most else text[: most - 1] + "…"


_STYLE = {
    "violation": ("#fdecea", "#b42318", "url(#pe-hatch)"),
    "needs_review": ("#fff4e5", "#b54708", "url(#pe-dots)"),
    "compliant": ("#ecfdf3", "#067647", "#067647"),
    "": ("#f2f4f7", "#667085", "#98a2b3"),
}
_DEFS = (
    "<defs>"
    '<pattern id="pe-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
    '<rect width="3" height="6" fill="#b42318"/></pattern>'
    '<pattern id="pe-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" fill="#ffffff"/><circle cx="3" cy="3" r="1.7" fill="#b54708"/>'
    "</pattern>"
    '<marker id="pe-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" '
    'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#667085"/></marker>'
    "</defs>"
)
BAND = 12


def svg(drawing: Layout, *, title: str = "lineage") -> str:
    """The drawing as a standalone SVG element (every text escaped, no external references)."""
    width, height = _n(drawing.width), _n(drawing.height)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        _DEFS,
    ]
    where = {node.id: node for node in drawing.nodes}
    for link in drawing.links:
        up, down = where[link.upstream], where[link.downstream]
        x1, y1 = up.x + up.w, up.y + up.h / 2
        x2, y2 = down.x - 2, down.y + down.h / 2
        bend = (x2 - x1) / 2
        out.append(
            f'<path class="edge" d="M{_n(x1)},{_n(y1)} C{_n(x1 + bend)},{_n(y1)} '
            f'{_n(x2 - bend)},{_n(y2)} {_n(x2)},{_n(y2)}" fill="none" stroke="#98a2b3" '
            f'stroke-width="1.4" marker-end="url(#pe-arrow)"><title>{escape(link.title)}</title>'
            "</path>"
        )
    out += [_node(node) for node in drawing.nodes]
    out += [
        f'<text class="edge-label" x="{_n(label.x)}" y="{_n(label.y)}" font-size="10" '
        f'fill="#475467">{escape(label.text)}</text>'
        for label in drawing.labels
    ]
    out.append("</svg>")
    return "\n".join(out)


def _node(node: Node) -> str:
    fill, stroke, band = _STYLE[node.verdict]
    thick = "2.5" if node.kind == "target" else "1.2"
    dash = ' stroke-dasharray="5 3"' if node.verdict == "needs_review" else ""
    x, y = node.x, node.y
    parts = [
        f'<g class="node {escape(node.kind)} {node.verdict or "neutral"}" '
        f'data-verdict="{node.verdict or "none"}"><title>{escape(node.title)}</title>',
        f'<rect class="box" x="{_n(x)}" y="{_n(y)}" width="{_n(node.w)}" height="{_n(node.h)}" '
        f'rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{thick}"{dash}/>',
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{BAND}" height="{_n(node.h)}" rx="3" fill="{band}"/>',
    ]
    room = node.w - BAND - 16
    for index, line in enumerate(node.lines):
        weight = ' font-weight="600"' if index == 0 else ""
        colour = "#101828"
        if line == WORDS[node.verdict] and node.verdict:
            weight, colour = ' font-weight="700"', stroke
        parts.append(
            f'<text x="{_n(x + BAND + 8)}" y="{_n(y + PAD + LINE_H * index + 11)}" '
            f'fill="{colour}"{weight}>{escape(fit(line, room))}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _n(value: float) -> str:
    """A coordinate with at most one decimal, the same on every platform."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text
