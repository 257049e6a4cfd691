"""The web page in a real browser: Debian's chromium, headless, driven through its chromedriver (nothing is
downloaded). Index a video from the page and watch its progress; ask a question; click a moment chip and
check that the player jumped to the moment; leave a screenshot in the test's output folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .live_server import TOKEN, served, served_ted  # noqa: F401 (fixtures)

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    for program in (CHROMIUM, CHROMEDRIVER):
        if not Path(program).exists():
            pytest.fail(f"{program} is missing: apt-get install -y chromium chromium-driver (see .ci/run)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--mute-audio", "--window-size=1400,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield driver
    driver.quit()


def test_page_indexes_asks_and_seeks_to_the_moment(served, served_ted, browser, tmp_path):
    browser.get(f"{served.url}/?token={TOKEN}")
    wait = WebDriverWait(browser, 120, poll_frequency=0.2)

    # pick a video by its path under the media root and watch the indexing job finish
    browser.find_element(By.ID, "path").send_keys("mdn/rabbit320.mp4")
    browser.find_element(By.CSS_SELECTOR, "#add-path button").click()
    wait.until(lambda d: d.find_element(By.ID, "job-text").text.startswith("rabbit320.mp4: ready"))
    wait.until(lambda d: "rabbit320.mp4" in d.find_element(By.ID, "videos").text)

    # ask about the TED clip: the answer's moments come as chips with evidence thumbnails
    browser.execute_script("const s = document.getElementById('videos'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
                           served_ted["id"])
    browser.find_element(By.ID, "question").send_keys("When does she say she teaches entrepreneurship?")
    browser.find_element(By.CSS_SELECTOR, "#ask button").click()
    chips = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".answer .chip"))
    target = next((c for c in chips if 20 <= float(c.get_attribute("data-start")) <= 25.6), chips[0])
    start = float(target.get_attribute("data-start"))
    assert target.find_element(By.TAG_NAME, "img").get_attribute("naturalWidth") != "0"  # the thumbnail loaded
    assert browser.find_elements(By.CSS_SELECTOR, ".answer .clip")[0].get_attribute("href").count("/clip?start=") == 1

    target.click()
    position = lambda d: d.execute_script("return document.getElementById('player').currentTime")  # noqa: E731
    wait.until(lambda d: start - 0.05 <= position(d) <= start + 3)
    assert 20 <= start <= 25.6, f"the chip clicked starts at {start}, not at the entrepreneurship line"

    # a search fills the thumbnail strip
    browser.find_element(By.ID, "query").send_keys("so what is luck")
    browser.find_element(By.CSS_SELECTOR, "#search button").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#strip .shot img"))

    screenshot = tmp_path / "page.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")
