"""One lab id per browser across the pages of a multipage lab (apps.common.labsession): Gradio gives
each page load its own session hash, the BrowserState-kept lab id is the same on every page of one
browser, and another browser gets another id."""
import pytest

pytestmark = pytest.mark.browser


def _page(slug: str):
    import gradio as gr

    from apps.common import labsession

    with gr.Blocks() as demo:
        shown = gr.Textbox(label="lab id", elem_id=f"{slug}-lab-id")
        labsession.wire(demo, slug).then(lambda: labsession.current(), None, shown)
    return demo


@pytest.fixture(scope="module")
def lab_url(browser):
    import gradio as gr

    from apps.launch import place
    from tests.conftest import serve_blocks

    with gr.Blocks() as lab:
        gr.Markdown("home")
    for slug in ("zoo", "rag"):
        with lab.route(slug, f"/{slug}"):
            place(_page(slug))
    server = serve_blocks(lab)
    next(server)
    yield lab.local_url
    server.close()


def _lab_id(page, url: str, slug: str) -> str:
    page.goto(url + slug, wait_until="domcontentloaded")
    box = page.locator(f"#{slug}-lab-id textarea")
    page.wait_for_function(f"() => document.querySelector('#{slug}-lab-id textarea')?.value.length === 32",
                           timeout=60_000)
    return box.input_value()


def test_pages_of_one_browser_share_the_lab_id(lab_url, browser, page):
    from apps.common import labsession

    zoo = _lab_id(page, lab_url, "zoo")
    rag = _lab_id(page, lab_url, "rag")
    assert zoo == rag
    page.reload()
    page.wait_for_function("() => document.querySelector('#rag-lab-id textarea')?.value.length === 32")
    assert page.locator("#rag-lab-id textarea").input_value() == zoo
    hashes = [sh for sh, lab_id in labsession._bindings.items() if lab_id == zoo]
    assert len(set(hashes)) >= 3  # three page loads, three session hashes, one lab id
    other = browser.new_context()
    try:
        assert _lab_id(other.new_page(), lab_url, "rag") != zoo
    finally:
        other.close()
