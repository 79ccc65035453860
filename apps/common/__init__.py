"""What every app shares in the UI: chrome, errors, the queue, stop, and the common actions.

Import from here (``from apps.common import esc, user_errors, heavy``); the submodules each hold one
job: :mod:`.chrome` (theme, header, headings), :mod:`.errors`, :mod:`.queue`.
"""
from apps.common.chrome import (BASE_CSS, BOOK, THEME, app_title, chapter_links, footer, header, mode_badge,
                                section_link)
from apps.common.errors import error_html, errors_inline, user_errors, warn_html
from apps.common.plots import themed
from apps.common.queue import HEAVY, configure_queue, heavy, heavy_limit, limit_jobs_per_session, session_hash
from core.escape import esc, esc_md

__all__ = ["BASE_CSS", "BOOK", "HEAVY", "THEME", "app_title", "chapter_links", "configure_queue", "error_html",
           "errors_inline", "esc", "esc_md", "footer", "header", "heavy", "heavy_limit", "limit_jobs_per_session",
           "mode_badge", "section_link", "session_hash", "themed", "user_errors", "warn_html"]
