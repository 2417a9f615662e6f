"""Writing plots: one self-contained HTML file (Vega, Vega-Lite and vega-embed inlined, images
as data URIs: it renders with the network off), or one SVG or PNG file a plot, through
vl-convert (the `plots` extra). Also DVC's `--json` shape.

vl-convert takes about 2 s to build its JavaScript bundle; the bundle is kept in
`.gitflowml/tmp/plots/`, keyed by vl-convert's version, so later runs skip that.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from gitflowml.errors import PlotError
from gitflowml.plots.collect import Collected
from gitflowml.util import fsutil

PLACEHOLDER = "{plot_divs}"
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".svg": "image/svg+xml"}  # fmt: skip


def renderer() -> ModuleType:
    try:
        import vl_convert
    except ImportError:
        raise PlotError(
            "rendering plots needs the 'plots' extra: pip install 'gitflowml[plots]' "
            "(--json works without it)"
        ) from None
    return vl_convert


def file_name(plot_id: str, suffix: str) -> str:
    """A file name for a plot: its id with every character outside [A-Za-z0-9._-] as `_`."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", plot_id.strip("/")) + suffix


def _bundle(cache: Path) -> str:
    vlc = renderer()
    version = getattr(vlc, "__version__", "unknown")
    path = cache / f"bundle-{file_name(version, '')}.js"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        pass
    text = str(vlc.javascript_bundle())
    path.parent.mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write_text(path, text)
    return text


def _image_html(rev: str, path: str, data: bytes) -> str:
    suffix = Path(path).suffix.lower()
    uri = f"data:{_MIME.get(suffix, 'application/octet-stream')};base64,"
    uri += base64.b64encode(data).decode()
    caption = html.escape(f"{rev}: {path}")
    return f'<figure><img src="{uri}" alt="{caption}"><figcaption>{caption}</figcaption></figure>'


def page(collected: Collected, cache: Path, template: str | None = None) -> str:
    """The HTML of every plot, with everything it needs inlined."""
    divs, calls = [], []
    for i, plot in enumerate(collected.plots):
        title = html.escape(plot.id)
        if plot.kind == "image":
            images = "".join(_image_html(rev, p, d) for rev, p, d in plot.images)
            divs.append(f'<div class="gfml-plot" id="plot-{i}"><h3>{title}</h3>{images}</div>')
        else:
            divs.append(f'<div class="gfml-plot gfml-vega" id="plot-{i}" title="{title}"></div>')
            spec = json.dumps(plot.spec, default=str).replace("</", "<\\/")
            calls.append(f"vegaEmbed('#plot-{i}', {spec}, {{renderer: 'svg', actions: false}})")
    errors = "".join(f"<li>{html.escape(e)}</li>" for e in collected.errors)
    body = "\n".join(divs) + (f'\n<ul class="gfml-errors">{errors}</ul>' if errors else "")
    script = ""
    if calls:
        bundle = _bundle(cache).replace("</script", "<\\/script")
        run = ";\n".join(f"{c}.catch(console.error)" for c in calls)
        script = f"<script>{bundle}</script>\n<script>\n{run};\n</script>"
    if template is not None:
        if PLACEHOLDER not in template:
            raise PlotError(f"the --html-template has no {PLACEHOLDER} to put the plots in")
        return template.replace(PLACEHOLDER, body + "\n" + script)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>gitflowml plots'
        "</title>\n<style>body{font-family:sans-serif} .gfml-plot{display:inline-block;"
        "margin:1em;vertical-align:top} img{max-width:600px}</style>\n</head>\n<body>\n"
        f"{body}\n{script}\n</body>\n</html>\n"
    )


def svg(spec: dict[str, Any]) -> str:
    return str(renderer().vegalite_to_svg(spec))


def png(spec: dict[str, Any], scale: float = 1.0) -> bytes:
    return bytes(renderer().vegalite_to_png(spec, scale=scale))


def write(
    collected: Collected, out: Path, fmt: str, cache: Path, template: str | None
) -> list[Path]:
    """Write the plots under `out`: index.html, or a file a plot; images are copied beside
    them for svg and png. Returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if fmt == "html":
        path = out / "index.html"
        fsutil.atomic_write_text(path, page(collected, cache, template))
        return [path]
    for plot in collected.plots:
        if plot.kind == "image":
            for rev, source, data in plot.images:
                path = out / file_name(f"{rev}_{source}", "")
                fsutil.atomic_write_bytes(path, data)
                written.append(path)
            continue
        assert plot.spec is not None
        path = out / file_name(plot.id, f".{fmt}")
        if fmt == "svg":
            fsutil.atomic_write_text(path, svg(plot.spec))
        else:
            fsutil.atomic_write_bytes(path, png(plot.spec))
        written.append(path)
    return written


def as_json(collected: Collected, images: dict[tuple[str, str], Path]) -> dict[str, Any]:
    """DVC's shape: {errors, data: {id: [{type, revisions, content | url}]}}."""
    doc: dict[str, list[dict[str, Any]]] = {}
    for plot in collected.plots:
        if plot.kind == "vega":
            doc[plot.id] = [
                {"type": "vega", "revisions": list(plot.revisions), "content": plot.spec}
            ]
        else:
            doc[plot.id] = [
                {"type": "image", "revisions": [rev], "url": str(images.get((rev, p), p))}
                for rev, p, _d in plot.images
            ]
    return {"errors": list(collected.errors), "data": doc}


def markdown(written: Sequence[Path], base: Path) -> str:
    """A Markdown summary that shows each picture (for a pull request)."""
    lines = []
    for path in written:
        rel = path.relative_to(base) if path.is_relative_to(base) else path
        lines.append(f"![{path.stem}]({rel.as_posix()})")
    return "\n\n".join(lines)
