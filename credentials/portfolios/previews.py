"""PDF evidence shown beside the rubric as page images.

A PDF opened in the browser could run its own scripts, and Chromium refuses PDFs in sandboxed frames, so the
assessor sees each page as a PNG rendered on the server by PDFium (pypdfium2): an image runs nothing and reads
no cookies. Evidence comes from anyone, so PDFium never runs in the app's process: each count or render is a
child Python process with a CPU-time and memory cap and a wall-clock timeout. A PDF that crashes it, hangs
or is encrypted gets no preview (the download link stays), never an error page or a dead worker.

The same child reads a PDF's text for the name check (``credentials.portfolios.namecheck``).

The child is this file run as a script (``python -I previews.py count|render N|text``): it imports only the
standard library and pypdfium2, not the app.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

MAX_PAGES = 30  # pages previewed per file; the rest are in the download
WIDTH = 1100  # rendered width in pixels (sharp on a wide screen, ~150 dpi for A4/Letter)
MAX_SIDE = 4000  # a page with absurd proportions is scaled down to fit this on its longer side
CPU_SECONDS = 10
WALL_SECONDS = 20
MEMORY_BYTES = 1536 * 1024 * 1024
TEXT_PAGES = 200  # pages whose text the name check reads
TEXT_CHARS = 200_000  # characters kept of one page's text


class PreviewFailed(Exception):
    """The PDF could not be counted or rendered (corrupt, encrypted, too costly): offer the download only."""


def _child(data: bytes, *args: str) -> bytes:
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argv of our own interpreter and file, no shell
            [sys.executable, "-I", __file__, *args],
            input=data,
            capture_output=True,
            timeout=WALL_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PreviewFailed("rendering took too long") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        raise PreviewFailed(said[-1] if said else f"the renderer stopped (exit status {done.returncode})")
    return done.stdout


_counts: dict[str, int] = {}


def page_count(sha256: str, read: Callable[[], bytes]) -> int:
    """How many pages the PDF with this content hash has; ``read`` gives its bytes when they are needed.

    Remembered per process by hash (stored evidence never changes), failures included, so a scoring page is not
    slowed by the same unreadable PDF twice."""
    if sha256 not in _counts:
        if len(_counts) >= 4096:
            _counts.clear()
        try:
            _counts[sha256] = int(_child(read(), "count"))
        except PreviewFailed:
            _counts[sha256] = 0
    return _counts[sha256]


def render_page(data: bytes, number: int) -> bytes:
    """Page ``number`` (1-based) as a PNG ``WIDTH`` pixels wide; PreviewFailed when out of range or unreadable."""
    if not 1 <= number <= MAX_PAGES:
        raise PreviewFailed(f"only pages 1 to {MAX_PAGES} are previewed")
    return _child(data, "render", str(number))


def page_texts(data: bytes) -> list[str]:
    """The text of the PDF's first ``TEXT_PAGES`` pages (each cut at ``TEXT_CHARS``); PreviewFailed if unreadable."""
    import json

    pages = json.loads(_child(data, "text"))
    if not isinstance(pages, list) or not all(isinstance(p, str) for p in pages):
        raise PreviewFailed("the text could not be read")
    return pages


def _main(argv: list[str]) -> int:  # pragma: no cover - the child process (exercised through the tests)
    import io
    import resource

    # The caps are set by the child itself, before PDFium sees a byte (preexec_fn is unsafe in a threaded app).
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    import pypdfium2

    data = sys.stdin.buffer.read()
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        print(f"not a readable PDF: {exc}", file=sys.stderr)
        return 2
    if argv[0] == "count":
        sys.stdout.write(str(len(document)))
        return 0
    if argv[0] == "text":
        import json

        pages = []
        for index in range(min(len(document), TEXT_PAGES)):
            textpage = document[index].get_textpage()
            pages.append(textpage.get_text_range()[:TEXT_CHARS])
        sys.stdout.write(json.dumps(pages))
        return 0
    number = int(argv[1])
    if number > len(document):
        print(f"the PDF has {len(document)} pages", file=sys.stderr)
        return 2
    page = document[number - 1]
    width, height = page.get_size()
    if width <= 0 or height <= 0:
        print("the page has no size", file=sys.stderr)
        return 2
    scale = min(WIDTH / width, MAX_SIDE / max(width, height))
    image = page.render(scale=scale, may_draw_forms=True).to_pil()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    sys.stdout.buffer.write(out.getvalue())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
