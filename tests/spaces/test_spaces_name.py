"""``import spaces`` from the repository root is Hugging Face's ZeroGPU package, with no
``sys.modules`` edit by the lab: the repo's ``spaces/`` folder is tools, not a package."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_spaces_from_the_repo_root_is_zerogpus_package() -> None:
    code = ("import sys, spaces; "
            "assert callable(spaces.GPU), 'spaces.GPU missing'; "
            "assert 'site-packages' in spaces.__file__, spaces.__file__; "
            "import core.gpu, apps.launch; "
            "assert sys.modules['spaces'] is spaces; print(spaces.__file__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "GRADIO_ANALYTICS_ENABLED": "False", "HOME": str(Path.home())})
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (ROOT / "spaces" / "__init__.py").exists()


def test_nothing_in_the_lab_edits_sys_modules_for_spaces() -> None:
    for path in [*ROOT.glob("apps/**/*.py"), *ROOT.glob("core/**/*.py"), *ROOT.glob("spaces/*.py")]:
        text = path.read_text(encoding="utf-8")
        assert 'sys.modules["spaces"]' not in text and "sys.modules['spaces']" not in text, path
