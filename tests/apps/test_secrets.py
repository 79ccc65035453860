"""A planted API key never shows up in logs, errors, the database or files the lab writes."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from gradio_client.exceptions import AppError

from apps.prompts import app as prompt_lab
from apps.launch import standalone
from tests.fake_openai import FakeOpenAI

KEY = "sk-PLANTED-7f3a9c0e1b2d4e5f"
SAMPLING = [0.7, 1.0, 50, 8, 1.0, 0, True]


def _generate(client, base_url, prompt="Say hi"):
    return client.predict("OpenAI-compatible server", "chat-smollm2-135m", base_url, "fake-model", KEY, "",
                          prompt, False, [], *SAMPLING, api_name="/prompts_generate")


def test_planted_key_leaks_nowhere(launch, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    client, _ = launch(standalone(prompt_lab.build, "prompts", prompt_lab.CSS), prompt_lab.CSS)
    errors = []
    with FakeOpenAI(reply="Hello there.") as ok:
        result = _generate(client, ok.base_url)
        assert "Hello there." in str(result)
        sent = {k.lower(): v for k, v in ok.headers[-1].items()}
        assert sent["authorization"] == f"Bearer {KEY}"  # it did reach the server, only there
    for mode in ("401", "500", "garbage"):
        with FakeOpenAI(mode=mode) as bad, pytest.raises(AppError) as err:
            _generate(client, bad.base_url)
        errors.append(str(err.value))
    with pytest.raises(AppError) as err:
        _generate(client, "http://127.0.0.1:9/v1")
    errors.append(str(err.value))

    assert all(KEY not in e for e in errors), errors
    assert any("401" in e for e in errors) and any("Could not reach" in e for e in errors)
    out, err_text = capfd.readouterr()
    assert KEY not in out and KEY not in err_text
    assert KEY not in caplog.text
    data_dir = Path(os.environ["LLM_LAB_DATA"])
    for path in [p for p in data_dir.rglob("*") if p.is_file()]:
        assert KEY.encode() not in path.read_bytes(), f"key written to {path}"
