"""Classifier Zoo HTML views and figures: class counts, per-method cards, the evaluation summary,
the comparison table and its grouped F1 chart. Everything shown as HTML is escaped here."""
from __future__ import annotations

from typing import Any, Sequence

from apps.common import esc, themed, warn_html
from core.classifiers import data as cdata
from core.classifiers.methods import METHOD_INFO, UNPARSED

#: Comparison-table columns: metrics first, one short text column (each method's model is on its card),
#: "book F1" last so that an uploaded file's table (without it) keeps the same widths.
COLUMNS = ["method", "F1 (w)", "acc.", "prec.", "recall", "docs/s", "train s", "status", "book F1"]
COLUMN_WIDTHS = ["24%", "9%", "8%", "8%", "9%", "10%", "10%", "10%", "12%"]


def counts_html(data: cdata.LabelledData, extra: list[str] | None = None) -> str:
    """The split's class counts (train/test) and any notes about the data."""
    rows = "".join(f'<tr><td title="{esc(c)}">{esc(c)}</td><td>{tr:,}</td><td>{te:,}</td></tr>'
                   for c, (tr, te) in data.counts().items())
    notes = "".join(f"<li>{esc(n)}</li>" for n in [*(extra or []), *data.notes])
    return (f'<div class="classifiers-counts"><b>{esc(data.name)}</b> · {len(data.classes)} classes'
            f"<table><tr><th>class</th><th>train</th><th>test</th></tr>{rows}</table>"
            + (f"<ul class='lab-note'>{notes}</ul>" if notes else "") + "</div>")


def _bars(classes: list[str], row: Any) -> str:
    out = []
    for i in sorted(range(len(classes)), key=lambda i: -float(row[i]))[:6]:
        v = float(row[i])
        out.append(f'<div class="classifiers-bar"><span class="name" title="{esc(classes[i])}">{esc(classes[i])}'
                   f'</span><span class="track"><span class="fill" style="display:block;'
                   f'width:{max(0.0, min(1.0, v)) * 100:.1f}%"></span></span><span class="val">{v:.2f}</span></div>')
    return "".join(out)


def _said(r: Any) -> str:
    """Generative card: what the model replied and what calibration made of it, side by side."""
    reply = (r.raw[0] or "").split(" → ")[0] if r.raw else ""
    if len(reply) >= 2 and reply[0] == reply[-1] and reply[0] in "'\"":  # the repr() in "'negative' → …"
        reply = reply[1:-1]
    named = r.said[0]
    said = "names no class" if named == UNPARSED else f"→ {esc(named)}"
    top = float(r.scores[0].max()) if r.scores is not None else 0.0
    if r.labels[0] == named or "calibrated" not in (r.raw[0] if r.raw else ""):
        after = "calibration agrees" if "calibrated" in (r.raw[0] if r.raw else "") else "label = the reply"
    else:
        after = f"calibration changes it to {esc(r.labels[0])}"
    return (f'<div class="classifiers-said"><span>model said <q>{esc(reply[:80])}</q> {said}</span>'
            f'<span>calibrated: <b>{esc(r.labels[0])}</b> {top:.2f} · {after}</span></div>')


def cards_html(results: list[Any], classes: list[str]) -> str:
    """One card per method for the single-text tab: label, top class scores, reply, latency."""
    cards = []
    for r in results:
        if not r.ok:
            body, lat = f'<div class="err">⚠ {esc(r.error)}</div>', ""
        else:
            label = esc(r.labels[0])
            body = f'<div class="label" title="{label}">{label}</div>{_bars(classes, r.scores[0])}'
            if r.said:
                body += _said(r)
            elif r.raw:
                body += f'<div class="classifiers-reply">{esc(r.raw[0][:200])}</div>'
            lat = f"{r.predict_s * 1000:,.0f} ms" + (f" · trained {r.fit_s:.1f} s" if r.fit_s > 0.05 else "")
        cards.append(f'<div class="classifiers-card"><h4>{esc(r.title)}</h4>'
                     f'<div class="model">{esc(r.model or METHOD_INFO[r.key].offline_model)}'
                     + (f' · <span class="lat">{esc(lat)}</span>' if lat else "") + f"</div>{body}</div>")
    return f'<div class="classifiers-cards">{"".join(cards)}</div>'


def summary_html(ev: Any, builtin: bool) -> str:
    """One paragraph on what ran, the best method, and each method's notes and errors."""
    data, ok = ev.data, ev.ok()
    best = max(ok, key=lambda r: r.metrics.f1) if ok else None
    out = (f"<div class='classifiers-summary'><b>{len(data.test_texts):,}</b> test and "
           f"<b>{len(data.train_texts):,}</b> training examples from {esc(data.name)} · "
           f"{len(ok)}/{len(ev.results)} methods ran in {ev.seconds:.1f} s"
           + (f" · best weighted F1: <b>{esc(best.title)}</b> ({best.metrics.f1:.3f})" if best else "")
           + (". The book's figures are on rotten_tomatoes' 1,066 test reviews with larger models."
              if builtin else ". No book figures: they are for Rotten Tomatoes, not your file.") + "</div>")
    for r in ev.results:
        if not r.ok:
            out += warn_html(f"{r.title}: {r.error}")
        for note in r.notes:
            out += f"<div class='lab-note'>{esc(r.title)}: {esc(note)}</div>"
    return out


def comparison_rows(ev: Any, builtin: bool) -> list[dict[str, Any]]:
    """The comparison table's rows in :data:`COLUMNS` order; "book F1" only for the built-in data."""
    rows = []
    for row in ev.comparison():
        out = {c: row.get(c) for c in COLUMNS if builtin or c != "book F1"}
        out["acc."], out["prec."], out["recall"] = row["accuracy"], row["precision (w)"], row["recall (w)"]
        if isinstance(row["docs/s"], float) and row["docs/s"] >= 100:
            out["docs/s"] = int(round(row["docs/s"]))  # "55131.9" wrapped in its cell
        out["status"] = "ok" if row["status"] == "ok" else "error (see above)"
        if builtin and out["book F1"] is None:
            out["book F1"] = "—"
        rows.append(out)
    return rows


def _short(title: str) -> str:
    return title.split(":")[0].replace("Embeddings + logistic regression", "Embeddings + LR")


def f1_chart(results: Sequence[Any], builtin: bool) -> Any:
    """Grouped bars: weighted F1 per method in this run, the book's F1 beside it (built-in data only)."""
    import plotly.graph_objects as go

    from core.escape import plot_text

    ok = [r for r in results if r.ok and r.metrics is not None]
    names = [plot_text(_short(r.title), 28) for r in ok]
    fig = go.Figure(go.Bar(name="F1 (this run)", x=names, y=[r.metrics.f1 for r in ok],
                           text=[f"{r.metrics.f1:.2f}" for r in ok], textposition="outside",
                           marker_color="#6366f1"))
    if builtin:
        book = [r.book_f1 for r in ok]
        fig.add_bar(name="book F1", x=names, y=book, text=[f"{b:.2f}" if b else "" for b in book],
                    textposition="outside", marker_color="#f59e0b")
    fig.update_layout(barmode="group", height=320, yaxis=dict(range=[0, 1.08], title="weighted F1"),
                      margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.14, x=1, xanchor="right"))
    return themed(fig)
