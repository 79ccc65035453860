"""RAG Chat's HTML: index status, the chunk table rows, answers with citation links, source cards.

Every piece of user or model text is escaped here (``esc`` for HTML, ``esc_md`` where the chat
renders Markdown). No model work, no Gradio components.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.common import error_html, esc, esc_md, warn_html

EMPTY_SOURCES = '<div class="rag-empty">Retrieved passages appear here, with their scores.</div>'
ALL_DOCS = "(all documents)"


def chunk_rows(collection: Any, doc: str | None = None, needle: str = "", limit: int = 500) -> list[list]:
    """Rows of the chunk browser: (#, document, page, characters, text), filtered by document and text."""
    if collection is None:
        return []
    needle = (needle or "").strip().lower()
    rows = []
    for c in collection.chunks:
        if doc and doc != ALL_DOCS and c.doc != doc:
            continue
        if needle and needle not in c.text.lower():
            continue
        rows.append([c.id + 1, c.doc, c.page if c.page is not None else "", len(c.text), c.text])
        if len(rows) >= limit:
            break
    return rows


def stats_rows(result: Any) -> list[list]:
    """Rows of the extraction-and-indexing table of a :class:`core.rag.store.BuildResult`."""
    return [[s.name, s.kind, s.pages, s.chars, s.chunks, "yes" if s.cached else "no", round(s.seconds, 2)]
            for s in result.stats]


def index_status(refs: Sequence[Any], result: Any, config: Any, embedder: str, errors: Sequence[str],
                 notes: Sequence[str]) -> str:
    """The status line after indexing: what was indexed, how, and any refusal or note."""
    msg = (f'<div class="rag-ok">Indexed {len(refs)} document(s): {sum(s.pages for s in result.stats)} '
           f'page(s), {sum(s.chars for s in result.stats):,} characters, {len(result.collection):,} chunks '
           f'({esc(config.describe())}, {esc(config.strategy)}). Embedder: {esc(embedder)}.</div>')
    msg += "".join(error_html(e) for e in errors)
    msg += "".join(warn_html(n) for n in notes)
    return msg


def cleared_status(released: int, deleted: int) -> str:
    """The status line after "Clear my documents" (only this session's references go)."""
    if not released:
        return '<div class="rag-empty">No documents were loaded.</div>'
    kept = released - deleted
    tail = (f" {deleted} stored file(s) no other session used were deleted from the server." if deleted else "")
    if kept:
        tail += f" {kept} stay on the server because other sessions (or the built-in corpus) still use them."
    return f'<div class="rag-ok">Cleared your documents from this session.{esc(tail)}</div>'


def cite_title(hit: Any) -> str:
    rel = f", cosine {hit.relevance:.2f}" if hit.relevance is not None else ""
    return f"{hit.chunk.where()} · {hit.retriever} score {hit.score:.3f}{rel}"


def answer_html(ans: Any, prefix: str) -> str:
    """Answer text with [n] links to the sources panel (user/model text escaped for HTML and Markdown).

    Citations written by the model read ``[n]``; inferred ones (embedding similarity, the model wrote
    none) read ``[≈n inferred]`` in a dashed chip, and their sentence is underlined as unverified.
    """
    if not ans.done:
        return esc_md(ans.text) + " ▌"
    parts = []
    for seg in ans.segments:
        text = esc_md(seg.text)  # Markdown too: the chat renders it
        if seg.inferred and seg.cites and text.strip():
            text = f'<span class="rag-unverified" title="not written with a citation by the model">{text}</span>'
        parts.append(text)
        for n in seg.cites:
            hit = ans.hits[n - 1]
            if seg.inferred:
                parts.append(f'<a class="rag-cite inferred" href="#{prefix}-{n}" title="inferred by similarity, '
                             f'not cited by the model: {esc(cite_title(hit))}">[≈{n} inferred]</a>')
            else:
                parts.append(f'<a class="rag-cite" href="#{prefix}-{n}" title="{esc(cite_title(hit))}">[{n}]</a>')
    html = "".join(parts).strip() or "<em>(the model returned no text)</em>"
    for part in getattr(ans, "unanswered", []) or []:
        html += (f'<div class="rag-missing"><b>Not found in your documents:</b> {esc(part)} '
                 '<span>(its passages fell under the relevance threshold)</span></div>')
    if ans.notes:
        html += "".join(f'<div class="rag-notes">{esc(n)}</div>' for n in ans.notes)
    return html


def sources_html(ans: Any, prefix: str) -> str:
    """Source cards: the passages given to the model (cited ones highlighted), then those under the threshold."""
    if ans is None:
        return EMPTY_SOURCES
    if ans.mode == "none":
        return '<div class="rag-empty">No retrieval: the model answered from its own weights.</div>'
    cited = {c.n for c in ans.citations}
    cards = []
    for i, h in enumerate(ans.hits, start=1):
        rel = f"cosine {h.relevance:.2f}" if h.relevance is not None else ""
        fused = ", ".join(f"{k} #{v}" for k, v in h.parts.items()) if h.parts else ""
        score = " · ".join(x for x in (f"{h.retriever} {h.score:.3f}", rel, fused) if x)
        cards.append(
            f'<div class="rag-src{" cited" if i in cited else ""}" id="{prefix}-{i}">'
            f'<div class="rag-src-head"><span class="rag-n">[{i}]</span>'
            f'<span class="rag-where">{esc(h.chunk.where())} · chunk {h.chunk.id + 1}</span></div>'
            f'<div class="rag-score">{esc(score)}</div>'
            f'<div class="rag-src-text">{esc(h.chunk.text)}</div></div>')
    for h in ans.dropped:
        cards.append(
            f'<div class="rag-src dropped"><div class="rag-src-head"><span class="rag-n">—</span>'
            f'<span class="rag-where">under threshold · {esc(h.chunk.where())}</span></div>'
            f'<div class="rag-score">cosine {h.relevance:.2f}</div>'
            f'<div class="rag-src-text">{esc(h.chunk.text[:300])}</div></div>')
    if not cards:
        return '<div class="rag-empty">No passage was retrieved.</div>'
    return f'<div class="rag-sources">{"".join(cards)}</div>'


def compare_cell(ans: Any, mode: str, label: str) -> str:
    """One column of the Compare tab: the answer of one retrieval mode over its sources."""
    title = f"<h4>{esc(label)}</h4>"
    if ans is None:
        return f'<div class="rag-cmp">{title}<div class="rag-empty">waiting…</div></div>'
    prefix = f"rag-cmp-{mode.replace('+', '-')}"
    return (f'<div class="rag-cmp">{title}<div class="rag-answer">{answer_html(ans, prefix)}</div>'
            f'{sources_html(ans, prefix)}</div>')


def eval_note(report: Any, n_chunks: int) -> str:
    """The line above the evaluation tables."""
    note = (f'<div class="rag-ok">Scored {report.n_questions} question(s) against {n_chunks} chunks; '
            f'a chunk is relevant when it contains a labelled passage.</div>')
    if report.unanswerable:
        note += warn_html(f"{len(report.unanswerable)} question(s) were skipped because their passage is not in "
                          f"the loaded documents: " + "; ".join(report.unanswerable[:5]))
    return note
