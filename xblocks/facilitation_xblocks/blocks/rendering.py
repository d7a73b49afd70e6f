"""Build a block's HTML fragment: a static template, its CSS and JS, and JSON state.

Templates hold only markup and translated labels (escaped here); everything learners
wrote travels as JSON and the browser inserts it with ``textContent``, never as HTML.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from web_fragments.fragment import Fragment

_PACKAGE = "facilitation_xblocks"


@cache
def resource(path: str) -> str:
    return files(_PACKAGE).joinpath(path).read_text(encoding="utf-8")


def dom_prefix(usage_id: str) -> str:
    """A prefix for element ids that is unique per block on a page and safe in HTML."""
    return "fx-" + re.sub(r"[^A-Za-z0-9_-]", "-", usage_id)


def fragment(
    template: str, labels: dict[str, str], *, css: str, js: str, init: str, state: dict[str, Any]
) -> Fragment:
    """``labels`` fill ``$name`` slots of the template, HTML-escaped."""
    markup = Template(resource(f"templates/{template}")).substitute(
        {key: html.escape(value, quote=True) for key, value in labels.items()}
    )
    frag = Fragment(markup)
    frag.add_css(resource(f"static/css/{css}"))
    frag.add_javascript(resource("static/js/common.js"))
    frag.add_javascript(resource(f"static/js/{js}"))
    frag.initialize_js(init, {"state": script_safe_json(state)})
    return frag


def script_safe_json(value: Any) -> str:
    """JSON text without ``<``, ``>`` or ``&``.

    Runtimes write init args into ``<script type="json/xblock-args">`` with a plain
    ``json.dumps``: a post containing ``</script>`` would end that element early. Handed
    over as this string (the JS calls ``JSON.parse``), learner text never can.
    """
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
