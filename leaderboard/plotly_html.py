"""Plotly figures drawn by a light Plotly bundle in a ``gr.HTML`` component, instead of ``gr.Plot``.

Why: ``gr.Plot`` loads Gradio's own Plotly component, which carries the whole of plotly.js (4.6 MB,
3-D, maps, WebGL): a browser spends about a second evaluating it the first time a plot is shown, so
the Pareto tab could not open within a second however fast the server answered. The figures here use
scatter and bar traces only, which plotly.js's *basic* bundle draws (1.2 MB, about a fifth of the
evaluation time). The bundle is the unmodified ``plotly.js-basic-dist-min`` of the plotly.js release
that the installed ``plotly`` package writes figures for (:data:`PLOTLY_JS`, MIT licence beside it),
served by the app at :data:`STATIC_ROUTE` with a year's cache (the file name carries the version).

A figure travels as its Plotly JSON (a dict, :func:`figure_value`); the component draws it with
``Plotly.react`` when it arrives and is visible, redraws on every new value, and keeps it the width of
its box. The bundle is loaded by the page once its first content shows, or by the first plot drawn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr
import plotly.graph_objects as go

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: the light bundle (scatter, bar, pie traces; every layout feature the figures use)
PLOTLY_JS = STATIC_DIR / "plotly-basic-4.1.1.min.js"
#: where the app serves :data:`STATIC_DIR` (relative to the page, so a Space's proxy path keeps working)
STATIC_ROUTE = "rb-static"
PLOTLY_URL = f"{STATIC_ROUTE}/{PLOTLY_JS.name}"
#: a year: the file name changes with the bundle's version
STATIC_MAX_AGE = 365 * 24 * 3600

#: no ``responsive``: the draw code below sets the width itself, from the box, whenever it changes
_CONFIG = {"displaylogo": False}

#: defines ``loadPlotly()``: one promise per page for the bundle (a failed load is forgotten, so the
#: next draw tries again). Shared by the idle loader and every plot, so that whichever asks first loads it.
_LOADER_JS = """
const loadPlotly = () => {
  if (window.Plotly) return Promise.resolve();
  if (!window.rbPlotlyLoading) {
    window.rbPlotlyLoading = new Promise((done, fail) => {
      const s = document.createElement('script');
      s.src = %(url)s;
      s.onload = done;
      s.onerror = () => { window.rbPlotlyLoading = null; s.remove(); fail(new Error(s.src)); };
      document.head.appendChild(s);
    });
  }
  return window.rbPlotlyLoading;
};
""" % {"url": json.dumps(PLOTLY_URL)}

#: runs once per component (Gradio's ``js_on_load``: ``element``, ``props``, ``watch``). A figure is drawn
#: only while its box is visible, at the box's width (drawn in a hidden tab, Plotly would keep a 700-px
#: default), and again when that width changes (marker sizes follow it, see ``size_at_width``); if the
#: bundle cannot be loaded the box says so instead of staying blank.
_DRAW_JS = _LOADER_JS + """
const box = element.querySelector('.rb-plotly');
let shown = null, width = 0;
// a trace whose meta is {size_at_width: [px, width]} gets markers that shrink with a narrower plot
const fit = (fig, w) => fig.data.map(t => {
  const at = t.meta && t.meta.size_at_width;
  return at && t.marker ? {...t, marker: {...t.marker, size: Math.max(3, Math.min(at[0], at[0] * w / at[1]))}} : t;
});
const draw = () => {
  const fig = props.value, w = Math.round(box.getBoundingClientRect().width);
  if (!fig || !fig.data || w <= 0 || (fig === shown && Math.abs(w - width) <= 1)) return;
  loadPlotly().then(() => {
    const now = Math.round(box.getBoundingClientRect().width);
    if (now <= 0 || props.value !== fig) return;  // hidden meanwhile, or a newer figure came
    shown = fig;
    width = now;
    box.querySelector('.rb-plot-error')?.remove();
    Plotly.react(box, fit(fig, now), {...(fig.layout || {}), width: now}, %(config)s);
  }, () => {
    if (!box.querySelector('.rb-plot-error')) box.insertAdjacentHTML('afterbegin', '<p class="rb-plot-error">'
      + 'The plot could not be drawn: its script (%(url)s) did not load. Reload the page to try again.</p>');
  });
};
draw();
watch('value', draw);
new ResizeObserver(draw).observe(box);
""" % {"url": PLOTLY_URL, "config": json.dumps(_CONFIG)}

#: seconds the idle loader waits for the page's first content before loading the bundle anyway
_IDLE_WAIT_LIMIT = 30


def load_when_idle_js(ready_selector: str) -> str:
    """A page-load function (for ``launch(js=…)``): once ``ready_selector`` matches (the page's first
    content is on screen; at most :data:`_IDLE_WAIT_LIMIT` seconds) and the browser is idle, load the
    bundle, so that a plot's first showing does not wait for its evaluation (0.13 s on 2 GPU-less cores)
    and the page's own start does not either."""
    return """() => {%(loader)s
  const idle = window.requestIdleCallback || (f => setTimeout(f, 200));
  const start = Date.now();
  const wait = () => (document.querySelector(%(ready)s) || Date.now() - start > %(limit)d)
    ? idle(() => loadPlotly().catch(() => {}), {timeout: 3000}) : setTimeout(wait, 200);
  wait();
}""" % {"loader": _LOADER_JS, "ready": json.dumps(ready_selector), "limit": _IDLE_WAIT_LIMIT * 1000}


def figure_value(fig: go.Figure) -> dict[str, Any]:
    """The figure as the component's value: Plotly's own JSON (numeric arrays as typed base64)."""
    return json.loads(fig.to_json())


def plotly_html(elem_id: str, label: str, min_height: int = 480) -> gr.HTML:
    """A plot: ``label`` above it (a Markdown-free title, as ``gr.Plot``'s label), the figure below."""
    return gr.HTML(None, label=label, show_label=True, container=True, elem_id=elem_id,
                   html_template=f'<div class="rb-plotly" style="width:100%;min-height:{min_height}px"></div>',
                   js_on_load=_DRAW_JS, apply_default_css=False,
                   min_height=min_height)


def add_static_routes(app: gr.Blocks) -> None:
    """``GET /rb-static/<file>``: the files of :data:`STATIC_DIR` (the Plotly bundle), cached for a year.
    Public like Gradio's own front-end assets (nothing in them is the board's)."""
    from fastapi import HTTPException
    from fastapi.responses import FileResponse

    files = {p.name: p for p in STATIC_DIR.iterdir() if p.suffix == ".js"}

    def static_file(name: str) -> FileResponse:
        path = files.get(name)
        if path is None:
            raise HTTPException(status_code=404, detail=f"no file {name!r} here")
        return FileResponse(path, media_type="text/javascript",
                            headers={"Cache-Control": f"public, max-age={STATIC_MAX_AGE}, immutable"})

    app.server_app.add_api_route(f"/{STATIC_ROUTE}/{{name}}", static_file, methods=["GET"])
