"""The page's HTML: Jinja2 templates kept as Python strings (no files to ship), autoescaped.

Everything from an issue (title, body, labels, URLs) goes through Jinja2's autoescape; the body is
shown as plain text in a ``<pre>``, never as HTML. The only script is the inline key handler; the
forms work without it (POST, then a redirect back to the page).
"""

from __future__ import annotations

from typing import Any

__all__ = ["render"]

_BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{% if refresh %}<meta http-equiv="refresh" content="{{ refresh }}">{% endif %}
<title>{% block title %}fewtag annotate{% endblock %}</title>
<style>
:root { --ink:#1f2328; --muted:#656d76; --line:#d0d7de; --bg:#f6f8fa; --accent:#0969da; --good:#1a7f37; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; gap:1.2rem; align-items:center; font-size:.9rem; padding:.6rem 1.2rem; background:#fff; border-bottom:1px solid var(--line); flex-wrap:wrap; }
header .brand { font-weight:700; }
header .stat { color:var(--muted); }
header .stat b { color:var(--ink); }
header nav { margin-left:auto; }
header nav a { margin-left:1rem; color:var(--accent); text-decoration:none; }
.badge { display:inline-block; padding:.05rem .5rem; border-radius:1rem; font-size:.8rem; background:#ddf4ff; color:#0550ae; }
.badge.busy { background:#fff8c5; color:var(--warn); }
.badge.err { background:#ffebe9; color:#cf222e; }
main { display:grid; grid-template-columns: minmax(0, 1fr) 370px; align-items:start; gap:1.2rem; padding:1.2rem; max-width:1400px; margin:auto; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:1rem 1.2rem; }
.card h2 { font-size:.8rem; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); margin:0 0 .6rem; }
.issue h1 { font-size:1.35rem; margin:.2rem 0 .8rem; }
.meta { color:var(--muted); font-size:.85rem; }
.meta a { color:var(--accent); }
pre.body { white-space:pre-wrap; word-wrap:break-word; font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:.8rem; max-height:62vh; overflow:auto; margin:0; }
aside { display:flex; flex-direction:column; gap:1rem; }
.opt { display:grid; grid-template-columns: 1.6rem 1.2rem 1fr auto; align-items:center; gap:.35rem; padding:.3rem .4rem; border-radius:6px; cursor:pointer; }
.opt:hover { background:var(--bg); }
.opt.suggested { background:#dafbe1; }
.opt small { grid-column: 3 / 5; color:var(--muted); line-height:1.3; }
kbd { font: 11px ui-monospace, monospace; border:1px solid var(--line); border-bottom-width:2px; border-radius:4px; padding:0 .3rem; background:#fff; text-align:center; }
.score { font-size:.8rem; color:var(--muted); min-width:5.5rem; display:flex; align-items:center; gap:.3rem; }
.bar { display:inline-block; height:.45rem; background:var(--line); border-radius:3px; width:3rem; overflow:hidden; }
.bar.wide { width:8rem; }
.bar i { display:block; height:100%; background:var(--good); }
.buttons { display:flex; gap:.5rem; margin-top:.7rem; }
button { font:inherit; padding:.35rem .8rem; border-radius:6px; border:1px solid var(--line); background:#f6f8fa; cursor:pointer; }
button.primary { background:#1f883d; border-color:#1a7f37; color:#fff; font-weight:600; }
button.primary kbd { background:#2c974b; border-color:#116329; color:#fff; }
.inline { display:inline; }
ul.near { list-style:none; padding:0; margin:0; }
ul.near li { padding:.3rem 0; border-bottom:1px solid var(--bg); font-size:.88rem; }
.tag { display:inline-block; font-size:.75rem; padding:0 .45rem; border-radius:1rem; background:#ddf4ff; color:#0550ae; margin-right:.2rem; }
.counts td { padding:.1rem .4rem .1rem 0; font-size:.88rem; }
.note { padding:.5rem .8rem; border-radius:6px; background:#dafbe1; margin:0 1.2rem; }
.note.bad { background:#ffebe9; }
.hint { padding:.5rem .7rem; border-radius:6px; background:#fff8c5; font-size:.88rem; }
.keys { font-size:.8rem; color:var(--muted); margin:.7rem 0 0; }
table.review { border-collapse:collapse; width:100%; background:#fff; }
table.review td, table.review th { border-bottom:1px solid var(--line); padding:.35rem .6rem; text-align:left; font-size:.9rem; }
.center { max-width:640px; margin:3rem auto; }
</style></head>
<body>
<header>
  <span class="brand">fewtag annotate</span>
  {% if progress %}
  <span class="stat">labelled <b id="n-labelled">{{ progress.n_labelled }}</b></span>
  <span class="stat">this session <b id="n-session">{{ progress.session }}</b></span>
  <span class="stat" title="cross-validated F1 of the current model: mean ± sd over folds [95% interval]">F1 <b id="estimate">{{ progress.estimate or "—" }}</b></span>
  {% if progress.busy %}<span class="badge busy" id="busy">{{ progress.busy }}</span>{% endif %}
  {% if progress.error %}<span class="badge err" title="{{ progress.error }}">worker: {{ progress.error[:80] }}</span>{% endif %}
  {% endif %}
  <nav><a href="/">label</a>{% if has_review %}<a href="/review">review</a>{% endif %}</nav>
</header>
{% if note %}<p class="note{% if note_bad %} bad{% endif %}" id="note">{{ note }}</p>{% endif %}
{% block content %}{% endblock %}
</body></html>
"""  # noqa: E501

_INDEX = """{% extends "base" %}
{% block content %}
<main>
<section class="card issue" id="issue" data-repo="{{ entry.item.repo }}" data-id="{{ entry.item.id }}">
  <div class="meta">{{ entry.item.repo }} #{{ entry.item.number or entry.item.id }}
    {% if entry.item.url | web_url %} · <a href="{{ entry.item.url }}" rel="noreferrer noopener" target="_blank">open on GitHub</a>{% endif %}
    {% if entry.reason %} · picked: <span title="{{ reason_text }}">{{ entry.reason }}</span>{% endif %}
    {% if entry.review %} · <b>review</b>: {{ entry.review.kind }}{% if entry.review.label %} ({{ entry.review.label }}){% endif %}{% endif %}</div>
  <h1 id="title">{{ entry.item.title or "(no title)" }}</h1>
  <pre class="body" id="body">{{ entry.item.body or "(no body)" }}</pre>
</section>
<aside>
  <section class="card">
    <h2>{{ "Labels (several may apply)" if multi_label else "Label (pick one)" }}</h2>
    <form method="post" action="/save" id="save-form">
      <input type="hidden" name="csrf" value="{{ csrf }}">
      <input type="hidden" name="repo" value="{{ entry.item.repo }}">
      <input type="hidden" name="id" value="{{ entry.item.id }}">
      <input type="hidden" name="version" value="{{ entry.version or '' }}">
      <input type="hidden" name="next" value="{{ next_url }}">
      {% for opt in options %}
      <label class="opt{% if opt.suggested %} suggested{% endif %}" title="{{ opt.description }}">
        <kbd>{{ opt.key }}</kbd>
        <input type="{{ 'checkbox' if multi_label else 'radio' }}" name="label" value="{{ opt.name }}"
               data-key="{{ opt.key }}"{% if opt.checked %} checked{% endif %}>
        <b>{{ opt.name }}</b>
        <span class="score">{% if opt.score is not none %}<span class="bar"><i style="width: {{ (opt.score * 100) | round | int }}%"></i></span>{{ "%.2f" | format(opt.score) }}{% endif %}</span>
        {% if opt.description %}<small>{{ opt.description }}</small>{% endif %}
      </label>
      {% endfor %}
      <div class="buttons"><button type="submit" class="primary" id="save">Save <kbd>Enter</kbd></button></div>
    </form>
    <div class="buttons">
      <form method="post" action="/skip" id="skip-form" class="inline">
        <input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="repo" value="{{ entry.item.repo }}">
        <input type="hidden" name="id" value="{{ entry.item.id }}"><input type="hidden" name="version" value="{{ entry.version or '' }}">
        <input type="hidden" name="next" value="{{ next_url }}">
        <button type="submit" id="skip">Skip <kbd>s</kbd></button></form>
      <form method="post" action="/undo" id="undo-form" class="inline">
        <input type="hidden" name="csrf" value="{{ csrf }}">
        <button type="submit" id="undo">Undo last <kbd>u</kbd></button></form>
    </div>
    <p class="keys">Keys: <kbd>1</kbd>…<kbd>9</kbd> <kbd>0</kbd> toggle a label · <kbd>Enter</kbd> save · <kbd>s</kbd> skip · <kbd>u</kbd> undo the last save or skip</p>
  </section>
  <section class="card">
    <h2>Model suggests</h2>
    {% if suggested %}{% for name, score in suggested %}<span class="tag">{{ name }} {{ "%.2f" | format(score) }}</span>{% endfor %}
    {% elif best %}<span class="meta">no label passes its tuned threshold; highest: {{ best[0] }} {{ "%.2f" | format(best[1]) }}</span>
    {% elif entry.review %}audit suggests: {% for name in entry.review.suggested %}<span class="tag">{{ name }}</span>{% else %}no label{% endfor %}
      {% if entry.review.score is not none %}({{ "%.2f" | format(entry.review.score) }}){% endif %}
    {% else %}<span class="meta">no suggestion yet (no model trained)</span>{% endif %}
    {% if entry.review and (suggested or best) %}<p class="meta">audit ({{ entry.review.kind }}): suggests {{ entry.review.suggested | join(", ") or "no label" }}{% if entry.review.score is not none %} ({{ "%.2f" | format(entry.review.score) }}){% endif %}</p>{% endif %}
    {% if entry.version %}<p class="meta">model {{ entry.version }}</p>{% endif %}
  </section>
  <section class="card">
    <h2>Nearest labelled issues</h2>
    <ul class="near" id="nearest">
    {% for n in nearest %}<li>{% for x in n.labels %}<span class="tag">{{ x }}</span>{% else %}<span class="tag">none</span>{% endfor %}
      {% if n.url | web_url %}<a href="{{ n.url }}" rel="noreferrer noopener" target="_blank">{{ n.title }}</a>{% else %}{{ n.title }}{% endif %}
      <span class="meta">{{ "%.2f" | format(n.similarity) }}</span></li>
    {% else %}<li class="meta">none yet</li>{% endfor %}
    </ul>
  </section>
  <section class="card">
    <h2>Progress</h2>
    <table class="counts" id="counts">{% for name, count in progress.counts %}<tr><td>{{ name }}</td><td><b>{{ count }}</b></td>
      <td><span class="bar wide"><i style="width: {{ (100 * count / progress.top) | round | int }}%"></i></span></td></tr>{% endfor %}</table>
    {% if progress.history %}<p class="meta">macro F1 by round (labels): {{ progress.history }}</p>{% endif %}
    {% if progress.stop_hint %}<p class="hint" id="stop-hint">{{ progress.stop_hint }}</p>{% endif %}
  </section>
</aside>
</main>
<script>
(function () {
  var boxes = Array.prototype.slice.call(document.querySelectorAll('#save-form input[name=label]'));
  var sent = false;
  function send(id) { if (sent) return; sent = true; var f = document.getElementById(id);
    if (f.requestSubmit) { f.requestSubmit(); } else { f.submit(); } }
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
    var t = e.target;
    if (t && (t.tagName === 'TEXTAREA' || (t.tagName === 'INPUT' && /^(text|password|search)$/.test(t.type)))) return;
    if (/^[0-9]$/.test(e.key)) {
      var box = boxes.filter(function (b) { return b.dataset.key === e.key; })[0];
      if (box) { box.checked = box.type === 'radio' ? true : !box.checked; e.preventDefault(); }
    } else if (e.key === 'Enter') { e.preventDefault(); send('save-form'); }
    else if (e.key === 's') { e.preventDefault(); send('skip-form'); }
    else if (e.key === 'u') { e.preventDefault(); send('undo-form'); }
  });
})();
</script>
{% endblock %}
"""  # noqa: E501

_EMPTY = """{% extends "base" %}
{% block content %}
<div class="center card" id="empty">
  {% if busy %}<h2>Picking the next issues…</h2><p>The model is {{ busy }}; this page reloads by itself.</p>
  {% else %}<h2>Nothing left to label</h2><p>Every issue of the pool is labelled or skipped.</p>{% endif %}
  <form method="post" action="/undo"><input type="hidden" name="csrf" value="{{ csrf }}">
    <button type="submit">Undo last <kbd>u</kbd></button></form>
</div>
{% endblock %}
"""  # noqa: E501

_REVIEW = """{% extends "base" %}
{% block content %}
<div style="padding:1.2rem; max-width:1200px; margin:auto">
<h2>Review: labels that <code>fewtag audit</code> flagged</h2>
{% if next_url %}<p><a href="{{ next_url }}" id="review-next">Review the next flagged issue →</a></p>{% endif %}
<table class="review" id="review">
<tr><th>issue</th><th>kind</th><th>given</th><th>suggested</th><th>score</th><th>status</th></tr>
{% for row, done in rows %}<tr><td><a href="/item?repo={{ row.repo | urlencode }}&amp;id={{ row.item_id | urlencode }}&amp;review=1">{{ row.repo }}#{{ row.item_id }}</a></td>
<td>{{ row.kind }}{% if row.label %}: {{ row.label }}{% endif %}</td><td>{{ row.given | join(", ") }}</td><td>{{ row.suggested | join(", ") }}</td>
<td>{% if row.score is not none %}{{ "%.2f" | format(row.score) }}{% endif %}</td><td>{{ "reviewed" if done else "open" }}</td></tr>
{% else %}<tr><td colspan="6">No review file: start the page with <code>--review DIR/label_issues.csv</code> from <code>fewtag audit</code>.</td></tr>{% endfor %}
</table></div>
{% endblock %}
"""  # noqa: E501

_LOGIN = """{% extends "base" %}
{% block content %}
<div class="center card"><h2>Log in</h2>
<form method="post" action="/login">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <p><label>Token (FEWTAG_ANNOTATE_TOKEN) <input type="password" name="token" autofocus autocomplete="current-password"></label></p>
  <button type="submit" class="primary">Log in</button>
</form></div>
{% endblock %}
"""  # noqa: E501

_ERROR = """{% extends "base" %}
{% block content %}
<div class="center card" id="error"><h2>{{ status }}</h2><p>{{ message }}</p><p><a href="{{ back or '/' }}">Back to the page</a></p></div>
{% endblock %}
"""  # noqa: E501

_TEMPLATES = {"base": _BASE, "index": _INDEX, "empty": _EMPTY, "review": _REVIEW, "login": _LOGIN, "error": _ERROR}
_env: Any = None


def _environment() -> Any:
    global _env
    if _env is None:
        try:
            import jinja2
        except ImportError as exc:
            from fewtag.errors import MissingDependencyError

            raise MissingDependencyError(
                f"the annotation page needs jinja2: pip install 'fewtag[serve]' ({exc})"
            ) from exc
        _env = jinja2.Environment(
            loader=jinja2.DictLoader(_TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
        )
        _env.filters["web_url"] = web_url
    return _env


def web_url(url: Any) -> bool:
    """Only ``http(s)://`` links are rendered as links (no ``javascript:`` from an imported file).

    >>> web_url("https://github.com/o/r/issues/1"), web_url("javascript:alert(1)"), web_url(None)
    (True, False, False)
    """
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


def render(name: str, **context: Any) -> str:
    """One page as HTML (autoescaped).

    >>> "&lt;script&gt;" in render("error", status=400, message="<script>x</script>")
    True
    """
    context.setdefault("refresh", None)
    context.setdefault("progress", None)
    context.setdefault("note", None)
    context.setdefault("note_bad", False)
    context.setdefault("has_review", False)
    context.setdefault("back", None)
    return str(_environment().get_template(name).render(**context))
