"""Deploy each LLM Lab app alone to a Hugging Face Space (``python -m spaces.build`` / ``spaces.deploy``).

Name clash, handled here: Hugging Face's ZeroGPU package is also called ``spaces`` and
``core.gpu`` does ``import spaces`` before torch. Whenever the repository root is on ``sys.path``
(``python -m ...`` from the root, pytest), Python would find *this* folder first and ZeroGPU's
``spaces.GPU`` would vanish. So this ``__init__`` loads the real ``spaces`` package from
site-packages, puts it in ``sys.modules["spaces"]`` in place of this module, and appends this
folder to its ``__path__``: ``import spaces`` is ZeroGPU's package (``spaces.GPU`` works as
everywhere else) and ``spaces.build`` / ``spaces.deploy`` are still importable. Built Space folders
never contain this folder, so on a Space ``import spaces`` is simply the platform's package.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_REPO = os.path.dirname(_HERE)


def _load_real_spaces() -> object | None:
    search = [p for p in sys.path if os.path.abspath(p or os.curdir) != _REPO]
    spec = importlib.machinery.PathFinder.find_spec("spaces", search)
    if spec is None or spec.loader is None or not spec.origin or os.path.dirname(spec.origin) == _HERE:
        return None
    own = sys.modules.get(__name__)
    module = importlib.util.module_from_spec(spec)
    sys.modules["spaces"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if own is not None:
            sys.modules["spaces"] = own
        raise
    module.__path__.append(_HERE)  # type: ignore[attr-defined]
    return module


_load_real_spaces()  # if ZeroGPU's package is not installed, this stays a plain package
