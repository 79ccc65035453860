"""Classifier Zoo core (book ch. 4 and 11): every way the book classifies text, one interface.

Light to import: torch, transformers, sentence-transformers, setfit and scikit-learn are imported
inside the functions that need them.
"""
from __future__ import annotations

from core.classifiers.data import (BUILTIN, LabelledData, builtin, class_counts, format_mapping,
                                      from_frame, parse_mapping, preview_csv)
from core.classifiers.evaluate import (Evaluation, MethodResult, classify_text, confusion_figure,
                                          evaluate, per_class_rows)
from core.classifiers.methods import (BOOK_PROMPT, DEFAULT_PROMPT, METHOD_INFO, OFFLINE_DEFAULT,
                                         PARSE_RULE, UNPARSED, ZooConfig, get_method)

__all__ = [
    "BUILTIN", "BOOK_PROMPT", "DEFAULT_PROMPT", "Evaluation", "LabelledData", "METHOD_INFO",
    "MethodResult", "OFFLINE_DEFAULT", "PARSE_RULE", "UNPARSED", "ZooConfig", "builtin", "class_counts",
    "classify_text", "confusion_figure", "evaluate", "format_mapping", "from_frame", "get_method",
    "parse_mapping", "per_class_rows", "preview_csv",
]
