"""Load the Space tools by path: ``spaces/`` is a folder of scripts, not a package, so that
``import spaces`` is always Hugging Face's ZeroGPU package."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SPACES = Path(__file__).resolve().parents[2] / "spaces"


def load_tool(name: str) -> ModuleType:
    """``spaces/<name>.py`` as module ``llm_lab_spaces_<name>`` (the name deploy.py uses too)."""
    module_name = f"llm_lab_spaces_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, SPACES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[module_name] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules[module_name]
