from pathlib import Path

from core.settings import get_settings, load_settings, override_settings


def test_defaults_are_offline_with_home_dirs():
    s = load_settings({})
    assert s.mode == "offline" and s.offline
    assert s.cache_dir == Path.home() / ".cache" / "llm-lab"
    assert s.assets_dir == s.cache_dir / "assets"
    assert s.db_path.parent == s.data_dir
    assert not s.openai.configured


def test_spaces_default_to_hub_mode_but_can_be_forced_offline():
    assert load_settings({"SPACE_ID": "me/tokenizers"}).mode == "hub"
    assert load_settings({"SPACE_ID": "me/x", "LLM_LAB_MODE": "offline"}).mode == "offline"
    assert load_settings({"LLM_LAB_MODE": "HUB"}).mode == "hub"


def test_limits_and_openai_come_from_the_environment():
    s = load_settings({"LLM_LAB_UPLOAD_MB": "3", "LLM_LAB_CSV_ROWS": "10", "LLM_LAB_REQUEST_TIMEOUT": "2.5",
                       "OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "OPENAI_API_KEY": "sk-secret",
                       "LLM_LAB_CACHE": "/tmp/x", "SPACES_ZERO_GPU": "true"})
    assert (s.limits.upload_mb, s.limits.csv_rows, s.limits.request_timeout_s) == (3, 10, 2.5)
    assert s.openai.configured and s.openai.model == ""
    assert s.cache_dir == Path("/tmp/x") and s.zero_gpu


def test_bad_numbers_fall_back_to_defaults():
    s = load_settings({"LLM_LAB_UPLOAD_MB": "lots"})
    assert s.limits.upload_mb == 25


def test_api_key_never_appears_in_repr():
    s = load_settings({"OPENAI_API_KEY": "sk-planted-key-123"})
    assert "sk-planted-key-123" not in repr(s)


def test_override_settings_is_temporary():
    before = get_settings()
    with override_settings(mode="hub") as s:
        assert get_settings() is s and s.mode == "hub"
    assert get_settings() is before
