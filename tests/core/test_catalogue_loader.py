import pytest

from core import catalogue, loader
from core.errors import ModelUnavailable
from core.loader import ModelCache
from core.settings import override_settings


def test_every_entry_is_complete():
    names = set()
    for e in catalogue.entries():
        assert e.name not in names
        names.add(e.name)
        assert e.task and e.loader and e.licence and e.chapter > 0 and e.size_mb > 0
        assert e.hub_id or e.offline_source, e.name
        assert e.hub_revision
        assert e.loader in loader.LOADERS or e.loader in {"clip", "blip", "blip2", "efficientnet"}, e.name
    # the book's production models are there
    hub_ids = {e.hub_id for e in catalogue.entries()}
    assert {"microsoft/Phi-3-mini-4k-instruct", "thenlper/gte-small", "BAAI/bge-small-en-v1.5",
            "openai/clip-vit-base-patch32", "Salesforce/blip2-opt-2.7b"} <= hub_ids


def test_display_says_what_runs_in_each_mode():
    e = catalogue.get("chat-phi3-mini")
    assert e.display("hub") == "microsoft/Phi-3-mini-4k-instruct"
    assert "SmolLM2" in e.display("offline")


def test_register_refuses_a_conflicting_entry():
    e = catalogue.get("embed-minilm")
    catalogue.register(e)  # same entry: fine
    with pytest.raises(ValueError):
        catalogue.register(catalogue.ModelEntry(**{**e.__dict__, "size_mb": 1}))


def test_cache_loads_once_and_evicts_least_recently_used():
    cache = ModelCache(budget_mb=100)
    calls = []

    def factory(name):
        def make():
            calls.append(name)
            return object()
        return make

    a = cache.get(("a", "x"), 60, factory("a"))
    assert cache.get(("a", "x"), 60, factory("a")) is a
    cache.get(("b", "x"), 30, factory("b"))
    cache.get(("a", "x"), 60, factory("a"))  # a becomes most recent
    cache.get(("c", "x"), 30, factory("c"))  # over budget: b (least recent) goes
    assert calls == ["a", "b", "c"]
    assert ("b", "x") not in cache.loaded() and ("a", "x") in cache.loaded()
    assert cache.loads == 3


def test_missing_offline_asset_is_one_actionable_line(tmp_path):
    with override_settings(cache_dir=tmp_path):
        loader._cache = None
        try:
            with pytest.raises(ModelUnavailable) as err:
                loader.load("embed-minilm")
        finally:
            loader._cache = None
    text = str(err.value)
    assert "python -m core.assets fetch" in text and "\n" not in text and "Traceback" not in text


def test_hub_only_models_say_so_offline():
    with pytest.raises(ModelUnavailable, match="not available offline"):
        loader.load("clip-vit-b32")


def test_offline_chat_and_embedding_models_load_and_are_shared():
    lm = loader.load("chat-smollm2-135m")
    assert loader.load("chat-phi3-mini") is lm  # one SmolLM2 copy serves every offline chat entry
    assert lm.context_window == 8192 and lm.tokenizer.chat_template
    st = loader.load("embed-gte-small")
    assert loader.load("embed-minilm") is st
    a, b = st.encode(["A man is eating food.", "A man is eating a piece of bread."], normalize_embeddings=True)
    assert abs(float(a @ b) - 0.7553) < 0.01  # MODELS.md check value
    import os
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_hub_code_path_with_tiny_models_built_from_configs(tmp_path, monkeypatch):
    """The hub branch of the loader (what Spaces run), exercised with local stand-ins for Hub ids."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from core.assets import asset_dir
    from core.generation import LocalBackend, SamplingParams

    smol = loader.smollm2_folder()
    tiny = tmp_path / "tiny-llama"
    config = LlamaConfig(vocab_size=49152, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(tiny)
    from transformers import AutoTokenizer
    AutoTokenizer.from_pretrained(smol).save_pretrained(tiny)  # a real chat template
    # monkeypatch removes these stand-ins afterwards (other code picks models from the catalogue)
    for entry in (catalogue.ModelEntry("test-hub-chat", "chat", "causal-lm", str(tiny), "main", None, 1, "MIT", 1),
                  catalogue.ModelEntry("test-hub-embed", "sentence-embedding", "sentence-transformer",
                                       str(asset_dir("minilm")), "main", None, 1, "MIT", 1)):
        monkeypatch.setitem(catalogue._ENTRIES, entry.name, entry)
    with override_settings(mode="hub"):
        lm = loader.load("test-hub-chat")
        assert lm.source == str(tiny) and lm.context_window == 256
        backend = LocalBackend("test-hub-chat")
        assert "<|im_start|>user" in backend.render_prompt([{"role": "user", "content": "hi"}])
        out = backend.generate([{"role": "user", "content": "hi"}], SamplingParams(greedy=True, max_new_tokens=5))
        assert isinstance(out, str)
        assert loader.load("test-hub-embed").encode(["x"]).shape == (1, 384)
        with pytest.raises(ModelUnavailable, match="not available on the Hub"):
            loader.load("efficientnet-lite0")


def test_offline_offer_lists_each_model_that_runs_once_under_the_default_name():
    chat = catalogue.offer("chat", "chat-qwen2.5-0.5b", mode="offline")
    assert chat.choices == [("SmolLM2-135M-Instruct (offline; the book's Qwen2.5-0.5B-Instruct runs in hub mode)",
                             "chat-qwen2.5-0.5b")]
    assert chat.value == "chat-qwen2.5-0.5b" and chat.collapsed
    assert set(chat.names) == {e.name for e in catalogue.entries("chat")}  # API callers may still pass any
    assert "Phi-3-mini-4k-instruct" in chat.info and "hub mode" in chat.info and "LLM_LAB_MODE=hub" in chat.info
    # the default is what runs: no "the book's ... runs in hub mode" in its label
    assert catalogue.offer("chat", "chat-smollm2-135m", mode="offline").choices == [
        ("SmolLM2-135M-Instruct (offline)", "chat-smollm2-135m")]
    assert catalogue.offer("chat", mode="offline").value == "chat-smollm2-135m"  # no default: what runs itself
    embed = catalogue.offer("sentence-embedding", "embed-gte-small", mode="offline")
    assert embed.choices == [("all-MiniLM-L6-v2 (offline; the book's gte-small runs in hub mode)", "embed-gte-small")]
    assert all(book in embed.info for book in ("gte-small", "bge-small-en-v1.5", "all-mpnet-base-v2"))
    assert "all-MiniLM-L6-v2 runs here" in embed.info


def test_offline_offer_lists_one_entry_per_offline_copy(monkeypatch):
    other = catalogue.ModelEntry("embed-other", "sentence-embedding", "sentence-transformer", "org/other", "abc",
                                 "other-copy", 10, "MIT", 2, label="other-v1", offline_label="other-v1 (offline)")
    monkeypatch.setitem(catalogue._ENTRIES, other.name, other)
    offer = catalogue.offer("sentence-embedding", "embed-gte-small", mode="offline")
    assert [n for _, n in offer.choices] == ["embed-gte-small", "embed-other"]
    assert offer.choices[1][0] == "other-v1 (offline)" and offer.collapsed
    assert "all-MiniLM-L6-v2 and other-v1 run here" in offer.info  # other-v1 runs itself: not a hub-only name
    assert "The book's all-mpnet-base-v2, gte-small and bge-small-en-v1.5 run in hub mode" in offer.info


def test_hub_offer_lists_every_model_unchanged():
    chat = catalogue.offer("chat", "chat-phi3-mini", mode="hub")
    assert chat.choices == [(e.label, e.name) for e in catalogue.entries("chat")]
    assert chat.value == "chat-phi3-mini" and not chat.collapsed and chat.info == ""
    embed = catalogue.offer("sentence-embedding", "embed-gte-small", mode="hub")
    assert [n for _, n in embed.choices] == ["embed-minilm", "embed-mpnet", "embed-gte-small", "embed-bge-small"]
    assert embed.value == "embed-gte-small" and catalogue.offer("chat", "no-such-model", mode="hub").value == "chat-phi3-mini"


def test_offer_of_a_hub_only_model_offline_lists_nothing_and_says_where_it_runs():
    from core.rag.models import RERANKER

    off = catalogue.offer("reranking", names=(RERANKER,), mode="offline")
    assert off.choices == [] and off.value is None and off.names == ()
    assert off.info.startswith("The book's ms-marco-MiniLM-L6-v2 cross-encoder runs in hub mode")
