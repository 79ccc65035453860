"""HTML views of the Topic Explorer: corpus preview, run summary, outlier and stability reports."""
from __future__ import annotations

from core.escape import esc
from core.topics.data import Corpus, Preview
from core.topics.outliers import OutlierReport
from core.topics.runs import TopicRun
from core.topics.stability import StabilityReport

EMPTY_SUMMARY = ('<div class="topics-empty">Pick a corpus or upload a CSV, choose the text column, '
                 "then press <b>Find topics</b>. The first run embeds the documents (the slow part); "
                 "changing the clustering settings afterwards reuses those embeddings.</div>")


UPLOAD_PROMPT = ('<div class="topics-empty">Choose a CSV file above (a header row; any delimiter or encoding). '
                 "<b>Find topics</b> runs once it is loaded.</div>")


def _duration(s: float) -> str:
    return f"about {max(5, round(s / 5) * 5):.0f} s" if s < 90 else f"about {s / 60:.0f} min"


def preview_html(p: Preview, corpus_name: str, notes: list[str] | None = None,
                 estimate_s: float | None = None) -> str:
    """Corpus stats, notes, a time estimate for the first run, the first documents."""
    warn = ""
    if p.numeric_share > 0.9:
        warn = '<div class="lab-warn">This column holds numbers, not text: pick another text column.</div>'
    cells = [("rows", f"{p.rows:,}"), ("usable documents", f"{p.usable:,}"), ("empty", f"{p.empty:,}"),
             ("duplicates", f"{p.duplicates:,}"), ("median length", f"{p.chars_median:,} chars"),
             ("longest", f"{p.chars_max:,} chars")]
    stats = "".join(f'<div class="topics-stat"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for k, v in cells)
    samples = "".join(f"<li>{esc(s)}</li>" for s in p.samples)
    note_html = "".join(f'<div class="lab-note">• {esc(n)}</div>' for n in (notes or []))
    if estimate_s is not None:
        big = estimate_s >= 30
        note_html += (f'<div class="topics-estimate{" large" if big else ""}">⏱ A first run takes '
                      f"{_duration(estimate_s)} on this machine (embedding {p.usable:,} documents); re-clustering "
                      f"afterwards takes seconds.{' Try the small sample first.' if big else ''}</div>")
    return (f'<div class="topics-preview"><div class="topics-src">{esc(corpus_name)}</div>'
            f'<div class="topics-stats">{stats}</div>{warn}{note_html}'
            f'<details><summary>First documents</summary><ul>{samples}</ul></details></div>')


def summary_html(run: TopicRun) -> str:
    share = 100 * run.outlier_share
    level = "high" if share >= 35 else ("mid" if share >= 15 else "low")
    tip = ""
    cfg = run.config
    if len(run.topics) < 1000 and run.n_topics <= 2 and cfg.min_cluster_size > 5:
        tip += (f'<div class="topics-tip">Only {run.n_topics} topic{"s" if run.n_topics != 1 else ""} in '
                f"{len(run.topics):,} documents: if the map shows clumps sharing one colour, lower "
                f"<i>min_cluster_size</i> (now {cfg.min_cluster_size}; try {max(3, cfg.min_cluster_size // 3)}) "
                "or choose <i>leaf</i> cluster selection.</div>")
    if share >= 35:
        tip += ('<div class="topics-tip">A large outlier share: lower <i>min_cluster_size</i>, or reassign '
               "outliers under <b>Outliers</b>.</div>")
    src = {"computed": "embedded now", "memory": "cached embeddings (memory)", "disk": "cached embeddings (disk)"}
    t = run.timings
    timing = (f"embedding {t.get('embed_s', 0):.1f} s ({src.get(run.embedding_source, run.embedding_source)}) · "
              f"UMAP + HDBSCAN + c-TF-IDF {t.get('cluster_s', 0):.1f} s · map {t.get('map_s', 0):.1f} s")
    notes = "".join(f'<div class="lab-note">• {esc(n)}</div>' for n in run.notes + run.outlier_history)
    return (f'<div class="topics-summary">'
            f'<div class="topics-kpi"><b>{run.n_topics}</b><span>topics</span></div>'
            f'<div class="topics-kpi"><b>{len(run.topics):,}</b><span>documents</span></div>'
            f'<div class="topics-kpi topics-outliers {level}"><b>{share:.1f} %</b>'
            f'<span>outliers ({run.outliers:,} docs, topic −1)</span></div>'
            f'<div class="topics-timing">{esc(timing)}</div></div>{tip}{notes}')


def outlier_html(report: OutlierReport) -> str:
    target = f" (target {report.target_pct:g} %)" if report.target_pct is not None else ""
    return (f'<div class="topics-summary"><div class="topics-kpi"><b>{report.before_pct:.1f} % → '
            f'{report.after_pct:.1f} %</b><span>outliers{esc(target)}</span></div>'
            f'<div class="topics-timing">strategy {esc(report.strategy)}, threshold {report.threshold:.3f}; '
            f'{report.before - report.after:,} documents reassigned; topic words updated.</div></div>')


def stability_html(report: StabilityReport) -> str:
    mean = report.mean_ari
    verdict = ("very stable" if mean >= 0.9 else "fairly stable" if mean >= 0.7 else
               "somewhat unstable" if mean >= 0.4 else "unstable")
    rows = "".join(f"<tr><td>{s}</td><td>{n}</td><td>{o:.1f} %</td></tr>"
                   for s, n, o in zip(report.seeds, report.n_topics, report.outlier_pct))
    pairs = "".join(f"<tr><td>{a} vs {b}</td><td>{ari:.3f}</td></tr>" for a, b, ari in report.pairs)
    return (f'<div class="topics-summary"><div class="topics-kpi"><b>{mean:.2f}</b>'
            f'<span>mean adjusted Rand index ({esc(verdict)})</span></div></div>'
            f'<div class="topics-tables"><table class="topics-table"><tr><th>UMAP seed</th><th>topics</th>'
            f'<th>outliers</th></tr>{rows}</table>'
            f'<table class="topics-table"><tr><th>pair</th><th>ARI</th></tr>{pairs}</table></div>'
            '<div class="lab-note">1.0 = identical clusterings, 0 = no more agreement than chance. '
            'UMAP is stochastic: only a fixed seed makes a run reproducible.</div>')


def corpus_line(corpus: Corpus) -> str:
    return f"{corpus.name}: {len(corpus):,} documents"
