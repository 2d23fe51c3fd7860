"""The studio in headless Chromium: open, type a script, render, rate, download; both languages."""

import shutil

import pytest

from avatar.ratings import RatingStore

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/setup.sh installs it)")

# Draws two different characters in the page's own font and compares the pixels: a font
# without CJK glyphs draws the same empty box for both.
GLYPH_CHECK = """() => {
  const font = getComputedStyle(document.body).fontFamily;
  const draw = (text) => {
    const canvas = document.createElement('canvas');
    canvas.width = 64; canvas.height = 64;
    const context = canvas.getContext('2d');
    context.font = '48px ' + font;
    context.fillText(text, 4, 52);
    return Array.from(context.getImageData(0, 0, 64, 64).data).join(',');
  };
  return draw('数') !== draw('字');
}"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield instance
        instance.close()


LANGUAGES = [("zh-CN", "移情数字人", "文稿", "分析情绪", ("情绪", "开心"), "完成"),
             ("en-US", "Empathy Avatar", "Script", "Plan emotions", ("Emotion", "happy"), "Done")]


@pytest.mark.parametrize(("locale", "title", "script_label", "plan_button", "plan_words", "done"), LANGUAGES)
def test_page_language_follows_browser(studio, browser, locale, title, script_label, plan_button, plan_words, done,
                                       tmp_path):
    page = browser.new_page(locale=locale, viewport={"width": 1280, "height": 1400})
    page.goto(f"http://127.0.0.1:{studio.port}/")
    page.get_by_text(title).first.wait_for(timeout=30_000)
    script = page.get_by_label(script_label, exact=True).first
    script.wait_for(timeout=30_000)
    assert page.evaluate(GLYPH_CHECK)
    # The plan table's headers and emotion names follow the page language too.
    script.fill("我今天太开心了！")
    page.get_by_role("button", name=plan_button).click()
    for word in plan_words:
        page.wait_for_function("word => document.body.innerText.split('\\n').some(line => line.trim() === word)",
                               arg=word, timeout=30_000)
    # Gradio's screen-reader notice for a finished event, from studio_app.GRADIO_TEXT.
    page.wait_for_function("word => document.body.innerHTML.includes('>' + word + '<')", arg=done, timeout=30_000)
    assert "common.complete" not in page.evaluate("document.body.innerText")
    page.screenshot(path=str(tmp_path / f"studio_{locale[:2]}.png"))
    assert (tmp_path / f"studio_{locale[:2]}.png").stat().st_size > 10_000
    page.close()


def test_render_rate_download(studio, browser, tmp_path):
    page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 1400}, accept_downloads=True)
    page.goto(f"http://127.0.0.1:{studio.port}/")
    script = page.get_by_label("Script", exact=True).first
    script.wait_for(timeout=30_000)
    script.fill("Good evening. Here is the news.")
    page.get_by_role("button", name="Render the full video").click()
    page.locator("video").first.wait_for(timeout=240_000)
    before = RatingStore(studio.ratings).count()
    page.get_by_role("button", name="Submit rating").click()
    page.get_by_text("Saved rating").first.wait_for(timeout=30_000)
    assert RatingStore(studio.ratings).count() == before + 1
    assert RatingStore(studio.ratings).all()[-1].settings["first_only"] is False

    link = page.locator('a[download="video.mp4"]').last
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "video.mp4"
    download.value.save_as(saved)
    assert saved.stat().st_size > 20_000
    page.close()
